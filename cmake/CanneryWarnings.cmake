# Warnings are errors in our own targets only; dependencies' headers are
# included as system headers through their imported targets.
function(cannery_warnings target)
  # -Wno-restrict: g++ 12 reports false positives inside std::string's
  # operator+ at -O2 (GCC bug 105329); clang (the fuzz build) has no such option.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
                                           -Werror)
endfunction()
