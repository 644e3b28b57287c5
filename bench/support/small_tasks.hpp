#pragma once
// The small-task workload of bench_cluster's pipelined_small_tasks and
// bench_scale's pipelined_small_tasks_engines/N: 20,000 tasks of [int64,
// str, float, 16 doubles] ("small_task"), all submitted, then all awaited,
// per iteration; items_per_second is tasks per second.

#include <benchmark/benchmark.h>

#include <cannery/controller.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/counting.hpp"

namespace cannery::bench {

inline constexpr std::int64_t small_tasks = 20000;

inline void run_small_tasks(benchmark::State& state, cannery::Controller& controller) {
  using namespace std::chrono_literals;
  const std::vector<double> samples(16, 0.25);
  const std::string name = "gradient.norm";
  Counting counting;
  for (auto _ : state) {
    std::vector<cannery::AsyncResult> results;
    results.reserve(small_tasks);
    for (std::int64_t i = 0; i < small_tasks; ++i) {
      results.push_back(controller.apply(cannery::any_engine, "small_task", i, name, 0.5, samples));
    }
    for (auto& r : results)
      benchmark::DoNotOptimize(r.get<std::int64_t>(60s));
  }
  counting.report(state, small_tasks);
  state.SetItemsProcessed(state.iterations() * small_tasks);
}

}  // namespace cannery::bench
