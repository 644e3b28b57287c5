// Scale benchmarks: many real engine processes on this host.
//
//   false_deaths_broadcast/N  a 100 MB float64 array broadcast to N engines
//                             (moved in, so no copy at submission), all
//                             results awaited. Counters: false_deaths (engines
//                             declared dead; none is killed, so every one is
//                             false), re_registrations (engines that took the
//                             controller for gone, as the controller saw them)
//                             and controller_losses (the same, counted by the
//                             engines themselves), over all iterations: target
//                             0 in every run. bytes_per_second is what left
//                             the controller. N = 64 is the case that failed
//                             before heartbeats had sockets of their own (30 of
//                             64 engines declared dead in one run); N = 1 is
//                             the single transfer beside it.
//   register_engines/N        N engine processes started at once by a fresh
//                             controller (spawn_local_engines), timed from
//                             launch until all have registered (target: 256
//                             in <= 5 s). Counters: repeated (the
//                             registrations beyond one per engine: engines
//                             that had to ask again, target 0) and
//                             controller_bytes_per_engine (the growth of this
//                             process's resident memory, the controller's,
//                             over N). Baseline: register_engines/1.
//   pipelined_small_tasks_engines/N
//                             bench_cluster's pipelined_small_tasks (20,000
//                             small tasks submitted, then awaited) over N
//                             engines: items_per_second (target: the 64-engine
//                             rate >= 80% of the 2-engine rate, the baseline).
//
// Engines come from CANNERY_ENGINE or next to this program (build/bin).

#include <benchmark/benchmark.h>

#include <cannery/controller.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/small_tasks.hpp"

namespace {

using namespace std::chrono_literals;
using Counters = std::map<std::string, std::uint64_t>;

constexpr std::size_t broadcast_bytes = 100'000'000;

// One controller per engine count, made once: starting processes is not what
// these benchmarks measure.
std::map<std::size_t, std::unique_ptr<cannery::Controller>> clusters;

cannery::Controller& cluster(std::size_t n) {
  auto& c = clusters[n];
  if (!c) {
    c = std::make_unique<cannery::Controller>();
    c->spawn_local_engines(n);
    c->wait_for_engines(n, 300s);
  }
  return *c;
}

std::uint64_t controller_losses(cannery::Controller& controller) {
  std::uint64_t sum = 0;
  for (int id : controller.engine_ids())
    sum += controller.apply(id, "cannery.engine_stats").get<Counters>(60s).at("controller_losses");
  return sum;
}

void false_deaths_broadcast(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  cannery::Controller& controller = cluster(n);
  const cannery::ControllerStats before = controller.stats();
  const std::uint64_t losses_before = controller_losses(controller);
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<double> data(broadcast_bytes / sizeof(double), 1.0);
    state.ResumeTiming();
    auto results = controller.broadcast("nbytes", std::move(data));
    for (auto& r : results) {
      if (r.get<std::int64_t>(600s) != static_cast<std::int64_t>(broadcast_bytes)) {
        state.SkipWithError("an engine answered the wrong size");
      }
    }
  }
  const cannery::ControllerStats after = controller.stats();
  state.counters["false_deaths"] = static_cast<double>(after.engines_died - before.engines_died);
  state.counters["re_registrations"] =
      static_cast<double>(after.re_registrations - before.re_registrations);
  state.counters["controller_losses"] =
      static_cast<double>(controller_losses(controller) - losses_before);
  state.counters["engines_alive"] = static_cast<double>(controller.engine_ids().size());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(n * broadcast_bytes));
}

BENCHMARK(false_deaths_broadcast)
    ->Arg(1)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

void pipelined_small_tasks_engines(benchmark::State& state) {
  cannery::bench::run_small_tasks(state, cluster(static_cast<std::size_t>(state.range(0))));
}

BENCHMARK(pipelined_small_tasks_engines)
    ->Arg(2)
    ->Arg(16)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

// This process's resident memory, in bytes.
double resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  return 0;
}

void register_engines(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  double repeated = 0;
  double per_engine = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const double before = resident_bytes();
    auto controller = std::make_unique<cannery::Controller>();
    state.ResumeTiming();
    controller->spawn_local_engines(n);
    controller->wait_for_engines(n, 600s);
    state.PauseTiming();
    per_engine = (resident_bytes() - before) / static_cast<double>(n);
    for (const cannery::EngineInfo& e : controller->engines())
      repeated += static_cast<double>(e.registrations) - 1;
    controller.reset();  // stopping the engines is not what this measures
    state.ResumeTiming();
  }
  state.counters["repeated"] = repeated;
  state.counters["controller_bytes_per_engine"] = per_engine;
}

BENCHMARK(register_engines)
    ->Arg(1)
    ->Arg(64)
    ->Arg(256)
    ->Arg(500)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  clusters.clear();  // engines stop with their controllers
  return 0;
}
