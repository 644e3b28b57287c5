#include "summary.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

namespace cannery::bench {
namespace {

// Forwards to the reporter the flags asked for and records the times.
class RecordingReporter : public benchmark::BenchmarkReporter {
 public:
  RecordingReporter(std::unique_ptr<benchmark::BenchmarkReporter> inner, Times& times)
      : inner_(std::move(inner)), times_(times) {}

  bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const double seconds =
          (run.run_name.time_type.empty() ? run.GetAdjustedCPUTime() : run.GetAdjustedRealTime()) /
          benchmark::GetTimeUnitMultiplier(run.time_unit);
      const std::string& args = run.run_name.args;
      times_.record(run.run_name.function_name + (args.empty() ? "" : "/" + args), seconds);
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override { inner_->Finalize(); }

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
  Times& times_;
};

// Null for formats other than console and json: the library's own reporter
// then runs, without a summary.
std::unique_ptr<benchmark::BenchmarkReporter> reporter_for(int argc, char** argv) {
  std::string_view format = "console";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    constexpr std::string_view flag = "--benchmark_format=";
    if (arg.substr(0, flag.size()) == flag) format = arg.substr(flag.size());
  }
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
  if (format != "console") return nullptr;
  return std::make_unique<benchmark::ConsoleReporter>(isatty(STDOUT_FILENO) != 0
                                                          ? benchmark::ConsoleReporter::OO_Defaults
                                                          : benchmark::ConsoleReporter::OO_Tabular);
}

}  // namespace

void Times::record(const std::string& name, double seconds) {
  auto [it, fresh] = seconds_.try_emplace(name, seconds);
  if (!fresh) it->second = std::min(it->second, seconds);
}

const double* Times::find(const std::string& name) const {
  auto it = seconds_.find(name);
  return it == seconds_.end() ? nullptr : &it->second;
}

void Times::print_ratio(const std::string& a, const std::string& b, const std::string& what) const {
  const double* ta = find(a);
  const double* tb = find(b);
  if (ta != nullptr && tb != nullptr)
    std::fprintf(stderr, "  %-60s %10.2f\n", what.c_str(), *ta / *tb);
}

int run_benchmarks(int argc, char** argv, const std::function<void(const Times&)>& summary) {
  std::unique_ptr<benchmark::BenchmarkReporter> inner = reporter_for(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (inner == nullptr) {
    benchmark::RunSpecifiedBenchmarks();
  } else {
    Times times;
    RecordingReporter reporter(std::move(inner), times);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    if (!times.empty()) summary(times);
  }
  benchmark::Shutdown();
  return 0;
}

}  // namespace cannery::bench
