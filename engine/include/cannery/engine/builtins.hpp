#pragma once
// The functions every cannery-engine has, used by the demo and the tests:
//
//   echo(Object) -> Object                        the argument, as it came
//   add(double, double) -> double
//   square(double) -> double
//   sum(span<const double>) -> double             a 1-D float64 array, in place
//   trace_scaled(Ref<const MatrixXd>, double) -> double
//   describe(Ref<const MatrixXd>, span<const double>, double, int64, string) -> string
//   nbytes(NDArray) -> int64                      bytes of any array
//   sum_all(map<string, NDArray>) -> double       sum of every float64 array in a dict
//   pid() -> int64                                the engine's process id
//   sleep_ms(int64) -> int64                      sleeps, then returns the pid
//   fail(string)                                  throws std::runtime_error(message)

#include "cannery/engine/functions.hpp"

namespace cannery {

void register_builtin_functions(FunctionRegistry& registry);

}  // namespace cannery
