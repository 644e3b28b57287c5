// Partitions, in test hosts (DESIGN.md, "Test hosts"): the controller on one
// host, engines on two others, over tcp through a bridge. One engine's link
// goes down for 10 s in the middle of a map and comes back: the controller
// declares it dead and retries its tasks elsewhere, the engine registers again
// when its heartbeats are answered, every task ends exactly once, and nothing
// hangs. Labelled `partition`; skipped, with the reason printed, without root.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "test_hosts.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::TestHosts;

namespace {

template <class Pred>
bool wait_for(Pred&& pred, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::optional<cannery::EngineInfo> engine_with_pid(cannery::Controller& controller, int pid) {
  for (const auto& e : controller.engines())
    if (e.pid == pid) return e;
  return std::nullopt;
}

}  // namespace

TEST_CASE("partition: an engine cut off for 10 s during a map comes back, every task ends once",
          "[partition]") {
  TestHosts hosts(3);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  cannery::test::TempDir dir;
  std::mutex log_mutex;
  std::vector<std::string> log;
  std::optional<cannery::Controller> controller;
  {
    auto inside = hosts.enter(0);  // the controller's threads and sockets live on host 0
    cannery::ControllerOptions o;
    o.interface = "tcp://" + TestHosts::address(0);
    o.connection_file = dir / "controller.json";
    // A few tasks per engine at a time, so that the healed engine gets work again.
    o.max_in_flight_per_engine = 2;
    o.log_sink = [&](std::string_view line) {
      std::lock_guard lock(log_mutex);
      log.emplace_back(line);
    };
    controller.emplace(o);
  }
  const std::string file = controller->connection_file().string();
  const pid_t cut = hosts.start(1, {CANNERY_ENGINE_PROGRAM, "--connection-file", file,
                                    "--exit-with-parent", "--no-shared-memory"});
  hosts.start(2, {CANNERY_ENGINE_PROGRAM, "--connection-file", file, "--exit-with-parent",
                  "--no-shared-memory"});
  controller->wait_for_engines(2, 60s);
  const int cut_id = engine_with_pid(*controller, cut).value().id;

  // 20 s of work for two engines: about 10 s when both serve.
  cannery::MapOptions options;
  options.retries = 3;
  auto map = controller->map("sleep_ms", options, std::vector<std::int64_t>(400, 50));
  std::this_thread::sleep_for(1s);
  hosts.link(1, false);
  // Silence is noticed after heartbeat x allowed_misses (2 s).
  CHECK(wait_for([&] { return !engine_with_pid(*controller, cut)->alive; }, 10s));
  std::this_thread::sleep_for(8s);
  hosts.link(1, true);
  // Its heartbeats get unknown_engine (or go unanswered long enough): it
  // registers again under the same id. TCP retransmits back off while the
  // link is down, so this may take some seconds.
  CHECK(wait_for([&] { return engine_with_pid(*controller, cut)->alive; }, 60s));

  const std::vector<std::int64_t> pids = map.get<std::int64_t>(120s);
  CHECK(pids.size() == 400);  // each element's result, once
  const cannery::ControllerStats stats = controller->stats();
  CHECK(stats.engines_died == 1);
  CHECK(stats.tasks_retried >= 1);  // what was in flight on the cut engine
  const cannery::EngineInfo back = engine_with_pid(*controller, cut).value();
  CHECK(back.id == cut_id);
  CHECK(back.registrations == 2);
  // It serves again.
  CHECK(controller->apply(cut_id, "add", 1.0, 2.0).get<double>(30s) == 3.0);
  std::lock_guard lock(log_mutex);
  const std::string said = "engine " + std::to_string(cut_id) + " (pid " + std::to_string(cut);
  bool declared = false;
  for (const auto& line : log)
    declared = declared || (line.find(said) != std::string::npos &&
                            line.find("is declared dead") != std::string::npos);
  CHECK(declared);
}
