# Builds one target of the build tree and checks how that went.
#
#   cmake -DBUILD_DIR=<dir> -DTARGET=<target> -DEXPECT=fail|succeed
#         [-DPATTERNS=<regex>%%<regex>...] -P expect_compile_failure.cmake
#
# With EXPECT=fail the build must fail AND its output must match every
# pattern: ctest's WILL_FAIL alone would pass on any compile error (a typo,
# a missing include), and WILL_FAIL cannot be combined with
# PASS_REGULAR_EXPRESSION (the regex decides pass/fail first, and WILL_FAIL
# then inverts it), so both checks live here instead.

foreach(var BUILD_DIR TARGET EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_compile_failure.cmake: ${var} is not set")
  endif()
endforeach()

execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)

if(EXPECT STREQUAL "succeed")
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${TARGET} was expected to compile but did not:\n${output}")
  endif()
  message(STATUS "${TARGET} compiled, as expected")
  return()
endif()

if(result EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not: the missing canner went unnoticed")
endif()
string(REPLACE "%%" ";" patterns "${PATTERNS}")
foreach(pattern IN LISTS patterns)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "${TARGET} failed to compile, but its output does not match "
                        "'${pattern}'; it failed for another reason:\n${output}")
  endif()
endforeach()
message(STATUS "${TARGET} failed to compile with the expected message")
