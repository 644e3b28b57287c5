// Soak: a million small tasks over four real engines. Every task ends once
// with its own result, no engine is lost or registers again, and the resident
// memory of the controller and of each engine stays flat: sampled as the
// tasks go, the least-squares slope after a warm-up is printed and bounded.
// Labelled `soak`: run by `scripts/test.sh --soak`, not by every CI run.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr std::size_t engines = 4;
constexpr std::int64_t total_tasks = 1'000'000;
constexpr std::int64_t wave = 20'000;  // submitted, then all awaited
constexpr std::size_t warm_up_waves = 10;
// Growth allowed over the whole run after the warm-up, per process.
constexpr double allowed_growth_bytes = 16.0 * 1024 * 1024;

double rss_of(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  }
  return 0;
}

// Least-squares slope of y over x.
double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

using Counters = std::map<std::string, std::uint64_t>;

std::uint64_t requests_answered(cannery::Controller& controller) {
  std::uint64_t sum = 0;
  for (int id : controller.engine_ids())
    sum += controller.apply(id, "cannery.engine_stats").get<Counters>(60s).at("requests_answered");
  return sum;
}

}  // namespace

TEST_CASE("soak: a million small tasks over 4 engines, none lost or doubled, memory flat",
          "[soak]") {
  cannery::ControllerOptions options;
  cannery::Controller controller(options);
  cannery::EngineSpawnOptions spawn;
  spawn.program = CANNERY_ENGINE_PROGRAM;
  controller.spawn_local_engines(engines, spawn);
  controller.wait_for_engines(engines, 60s);

  std::map<std::string, std::vector<double>> rss;  // per process: "controller", engine pids
  std::vector<double> done_at;                     // tasks ended at each sample
  auto sample = [&](std::int64_t done) {
    done_at.push_back(static_cast<double>(done));
    rss["controller"].push_back(rss_of("self"));
    for (int pid : controller.spawned_pids())
      rss["engine " + std::to_string(pid)].push_back(rss_of(std::to_string(pid)));
  };

  const std::uint64_t answered_before = requests_answered(controller);
  const auto start = std::chrono::steady_clock::now();
  std::int64_t wrong = 0;
  std::vector<cannery::AsyncResult> results;
  results.reserve(wave);
  for (std::int64_t first = 0; first < total_tasks; first += wave) {
    for (std::int64_t i = first; i < first + wave; ++i)
      results.push_back(controller.apply(cannery::any_engine, "add", static_cast<double>(i), 0.5));
    for (std::int64_t i = first; i < first + wave; ++i) {
      // Each task's own result: a lost task times out, a crossed one is wrong.
      if (results[static_cast<std::size_t>(i - first)].get<double>(120s) !=
          static_cast<double>(i) + 0.5)
        ++wrong;
    }
    results.clear();
    sample(first + wave);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(wrong == 0);

  const cannery::ControllerStats stats = controller.stats();
  CHECK(stats.ignored_replies == 0);  // no task answered twice
  CHECK(stats.tasks_retried == 0);
  CHECK(stats.engines_died == 0);
  CHECK(stats.re_registrations == 0);
  // The engines ran each task once: the stats calls themselves add one each
  // (the first one's, counted after it read the counter).
  CHECK(requests_answered(controller) - answered_before == total_tasks + engines);

  std::printf("soak: %lld tasks over %zu engines in %.1f s (%.0f tasks/s)\n",
              static_cast<long long>(total_tasks), engines, seconds,
              static_cast<double>(total_tasks) / seconds);
  const std::vector<double> x(done_at.begin() + warm_up_waves, done_at.end());
  for (const auto& [process, samples] : rss) {
    const std::vector<double> y(samples.begin() + warm_up_waves, samples.end());
    const double per_100k = slope(x, y) * 100'000;
    const double growth = per_100k * (x.back() - x.front()) / 100'000;
    std::printf(
        "soak: %-14s RSS %.1f MB after warm-up, %.1f MB at the end; slope %+.1f KB per "
        "100k tasks (%+.2f MB over the run)\n",
        process.c_str(), y.front() / 1e6, y.back() / 1e6, per_100k / 1024, growth / 1e6);
    INFO(process);
    CHECK(growth < allowed_growth_bytes);
  }
}
