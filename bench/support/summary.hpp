#pragma once
// Running a benchmark executable: the reporter the flags ask for, plus a
// summary of ratios against the baselines on stderr (so that
// --benchmark_format=json on stdout stays machine-readable).

#include <functional>
#include <map>
#include <string>

namespace cannery::bench {

// Seconds per iteration of each benchmark, "name" or "name/args", fastest
// run kept: wall time for benchmarks that use real time (several threads do
// the work), CPU time for the others (other processes' load would inflate it).
class Times {
 public:
  void record(const std::string& name, double seconds);
  // Null when the benchmark did not run (filtered out, or failed).
  const double* find(const std::string& name) const;
  bool empty() const { return seconds_.empty(); }
  // Prints "what  a/b" when both ran.
  void print_ratio(const std::string& a, const std::string& b, const std::string& what) const;

 private:
  std::map<std::string, double> seconds_;
};

// Initializes Google Benchmark, runs what is registered, then calls
// `summary` with the times. Returns the process exit code.
int run_benchmarks(int argc, char** argv, const std::function<void(const Times&)>& summary);

}  // namespace cannery::bench
