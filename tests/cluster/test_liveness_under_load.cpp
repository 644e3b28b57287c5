// Liveness under load, with real engines: bulk data on the work sockets never
// makes a live engine look dead or a live controller look gone (heartbeats
// travel on sockets of their own), and a real death is still seen in time.
// Counted from the controller's and the engines' own stats, not from logs.

#include <signal.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using cannery::test::Cluster;

namespace {

using Counters = std::map<std::string, std::uint64_t>;

Counters engine_stats(cannery::Controller& controller, int engine) {
  return controller.apply(engine, "cannery.engine_stats").get<Counters>(60s);
}

// No engine was declared dead or registered twice, on either side.
void check_no_false_alarm(cannery::Controller& controller) {
  const cannery::ControllerStats stats = controller.stats();
  CHECK(stats.engines_died == 0);
  CHECK(stats.re_registrations == 0);
  for (const cannery::EngineInfo& engine : controller.engines()) {
    INFO("engine " << engine.id);
    CHECK(engine.alive);
    CHECK(engine.registrations == 1);
    const Counters counters = engine_stats(controller, engine.id);
    CHECK(counters.at("registrations") == 1);
    CHECK(counters.at("controller_losses") == 0);
    CHECK(counters.at("heartbeats_answered") > 0);
  }
}

constexpr std::size_t mb100 = 100'000'000;
constexpr std::size_t mb400 = 400'000'000;

// Every task ended with its result: the size of its array (built-in nbytes).
void check_sizes(std::vector<cannery::AsyncResult>& results, std::size_t bytes) {
  for (auto& result : results)
    CHECK(result.get<std::int64_t>(300s) == static_cast<std::int64_t>(bytes));
}

}  // namespace

TEST_CASE("liveness: a 100 MB broadcast to 64 engines declares none dead", "[cluster][liveness]") {
  Cluster cluster(64);
  auto& controller = cluster.controller;
  for (int round = 0; round < 2; ++round) {
    auto results = controller.broadcast("nbytes", std::vector<double>(mb100 / sizeof(double)));
    REQUIRE(results.size() == 64);
    check_sizes(results, mb100);
  }
  check_no_false_alarm(controller);
}

TEST_CASE("liveness: ten 400 MB tasks by value to 2 engines declare none dead",
          "[cluster][liveness]") {
  // Every task carries its 400 MB over the socket, as the bulk data this test
  // is about: not put once for all of them (auto_put_min_bytes).
  cannery::ControllerOptions options;
  options.auto_put_min_bytes = 0;
  Cluster cluster(2, false, options);
  auto& controller = cluster.controller;
  const std::vector<double> weights(mb400 / sizeof(double), 0.5);
  std::vector<cannery::AsyncResult> tasks;
  for (int i = 0; i < 10; ++i)
    tasks.push_back(controller.apply(cannery::any_engine, "nbytes", weights));
  check_sizes(tasks, mb400);
  check_no_false_alarm(controller);
}

TEST_CASE("liveness: an engine killed during large transfers is declared dead in time",
          "[cluster][liveness]") {
  Cluster cluster(3);
  auto& controller = cluster.controller;
  cannery::ApplyOptions retry;
  retry.retries = 2;
  std::vector<cannery::AsyncResult> tasks;
  for (int i = 0; i < 12; ++i) {
    tasks.push_back(controller.apply_with(retry, cannery::any_engine, "nbytes",
                                          std::vector<double>(mb100 / sizeof(double))));
  }
  // Bulk data is on its way to every engine when one of them dies.
  const cannery::EngineInfo victim = controller.engines().front();
  REQUIRE(::kill(victim.pid, SIGKILL) == 0);
  const auto killed = std::chrono::steady_clock::now();
  auto alive = [&] {
    for (const auto& e : controller.engines())
      if (e.id == victim.id) return e.alive;
    return false;
  };
  while (alive() && std::chrono::steady_clock::now() - killed < 30s)
    std::this_thread::sleep_for(10ms);
  const auto detected = std::chrono::steady_clock::now() - killed;
  // heartbeat x allowed_misses (500 ms x 4), noticed within one more
  // heartbeat; the rest is room for a loaded machine, not a speed claim.
  CHECK(detected < 2500ms + 2500ms);
  CHECK_FALSE(alive());
  // Its tasks went to the others; every task ends once, with its result.
  check_sizes(tasks, mb100);
  const cannery::ControllerStats stats = controller.stats();
  CHECK(stats.engines_died == 1);
  CHECK(stats.re_registrations == 0);
}
