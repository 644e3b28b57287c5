# cmake -P script run by the install_and_consume test.
function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${CANNERY_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build
    -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
    "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
# The engine from the installed tree: it must find the installed libraries
# by itself (its RUNPATH), with nothing from the build tree on any path.
run(${WORK_DIR}/build/consumer ${WORK_DIR}/prefix/bin/cannery-engine)
if(NOT last_output MATCHES "consumer: 6 x 2.5 = 15" OR
   NOT last_output MATCHES "the installed engine says 2 \\+ 3 = 5")
  message(FATAL_ERROR "consumer printed unexpected output: ${last_output}")
endif()
message(STATUS "${last_output}")
