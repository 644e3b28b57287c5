#pragma once
// The functions every cannery-engine has (register_builtin_functions), used
// by the demo, the benchmarks and the tests; parameters as the engine uncans
// them:
//
//   echo(Object) -> Object                        the argument, as it came
//   add(double, double) -> double
//   square(double) -> double
//   small_task(int64, string, double, span<const double>) -> int64
//                                                 the benchmarks' small task: id + length
//                                                 of the string + trunc(value + sum of
//                                                 the span); invalid_argument beyond int64
//   sum(span<const double>) -> double             a 1-D float64 array, in place
//   ramp(int64 n) -> vector<double>               0, 1, ..., n - 1
//   trace_scaled(Ref<const MatrixXd>, double) -> double
//   describe(Ref<const MatrixXd>, span<const double>, double, int64, string) -> string
//   nbytes(NDArray) -> int64                      bytes of any array
//   nbytes_all(map<string, NDArray>) -> int64     bytes of every array of a dict, unread
//   sum_all(map<string, NDArray>) -> double       sum of every array of a dict (all float64,
//                                                 any shape)
//   pid() -> int64                                the engine's process id
//   sleep_ms(int64) -> int64                      sleeps, then returns the pid
//   fail(string) -> void                          throws std::runtime_error(message)
//
// Not among them: "cannery.engine_stats" and "cannery.get", which every
// Engine has (engine.hpp).

#include "cannery/engine/functions.hpp"

namespace cannery {

void register_builtin_functions(FunctionRegistry& registry);

}  // namespace cannery
