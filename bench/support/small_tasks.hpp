#pragma once
// The small-task workload of bench_cluster's pipelined_small_tasks and
// bench_scale's pipelined_small_tasks_engines/N: 20,000 tasks of [int64,
// str, float, 16 doubles] ("small_task"), all submitted, then all awaited,
// per iteration; items_per_second is tasks per second. Counters
// tasks_per_message_sent and tasks_per_message_received: how many tasks the
// controller's messages to and from engines carried on average (batching).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cannery/controller.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/counting.hpp"

namespace cannery::bench {

inline constexpr std::int64_t small_tasks = 20000;

// One round of the workload on `controller`: its seconds.
inline double small_tasks_round(cannery::Controller& controller) {
  using namespace std::chrono_literals;
  static const std::vector<double> samples(16, 0.25);
  static const std::string name = "gradient.norm";
  const auto start = std::chrono::steady_clock::now();
  std::vector<cannery::AsyncResult> results;
  results.reserve(small_tasks);
  for (std::int64_t i = 0; i < small_tasks; ++i)
    results.push_back(controller.apply(cannery::any_engine, "small_task", i, name, 0.5, samples));
  for (auto& r : results)
    benchmark::DoNotOptimize(r.get<std::int64_t>(60s));
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A cluster whose rate the measured one is compared with, round by round.
struct Baseline {
  cannery::Controller& controller;
  std::string counter;  // the ratio's name: the measured rate over the baseline's
};

// The workload on `controller`, timed. With a baseline, each iteration also
// runs a round on the baseline's cluster, untimed, before the measured round
// in one iteration and after it in the next (neither is always the one on a
// warmer or a busier machine), and the counter named by the baseline is the
// median of the rounds' rate ratios: on a machine whose speed drifts between
// runs, rounds a second apart compare better than two separate runs.
inline void run_small_tasks(benchmark::State& state, cannery::Controller& controller,
                            const Baseline* baseline = nullptr) {
  auto baseline_round = [&] {
    state.PauseTiming();
    const double seconds = small_tasks_round(baseline->controller);
    state.ResumeTiming();
    return seconds;
  };
  Counting counting;
  const cannery::ControllerStats before = controller.stats();
  std::vector<double> ratios;
  for (auto _ : state) {
    const bool baseline_first = baseline != nullptr && ratios.size() % 2 == 1;
    double baseline_seconds = baseline_first ? baseline_round() : 0;
    const double seconds = small_tasks_round(controller);
    if (baseline != nullptr) {
      if (!baseline_first) baseline_seconds = baseline_round();
      ratios.push_back(baseline_seconds / seconds);  // rates are tasks over seconds
    }
  }
  // Allocations and page faults are the process's: per task of both clusters.
  counting.report(state, baseline != nullptr ? 2 * small_tasks : small_tasks);
  const cannery::ControllerStats after = controller.stats();
  const auto tasks = static_cast<double>(state.iterations() * small_tasks);
  auto per_message = [&](std::uint64_t messages) {
    return tasks / static_cast<double>(std::max<std::uint64_t>(1, messages));
  };
  state.counters["tasks_per_message_sent"] =
      per_message(after.messages_sent - before.messages_sent);
  state.counters["tasks_per_message_received"] =
      per_message(after.messages_received - before.messages_received);
  if (baseline != nullptr && !ratios.empty()) {
    std::sort(ratios.begin(), ratios.end());
    state.counters[baseline->counter] = ratios[ratios.size() / 2];
  }
  state.SetItemsProcessed(state.iterations() * small_tasks);
}

}  // namespace cannery::bench
