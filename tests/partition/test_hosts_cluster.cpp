// A cluster across test hosts (DESIGN.md, "Test hosts"): the controller on
// one host, an engine on each of four others, over tcp through the bridge,
// each engine with no shared memory with the controller, as on machines of
// their own. apply, map and put behave as on one host, and a task whose
// engine is killed mid-task is retried on another. Labelled `partition`;
// skipped, with the reason printed, without root.

#include <signal.h>

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "test_hosts.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::TestHosts;

TEST_CASE("engines on four test hosts, the controller on a fifth: apply, map, put, a killed engine",
          "[partition]") {
  TestHosts hosts(5);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  cannery::test::TempDir dir;
  std::optional<cannery::Controller> controller;
  {
    auto inside = hosts.enter(0);  // the controller's threads and sockets live on host 0
    cannery::ControllerOptions o;
    o.interface = "tcp://" + TestHosts::address(0);
    o.connection_file = dir / "controller.json";
    o.log_sink = [](std::string_view) {};  // the killed engine's death is expected
    controller.emplace(o);
  }
  const std::string file = controller->connection_file().string();
  std::vector<pid_t> pids;
  for (int host = 1; host <= 4; ++host) {
    pids.push_back(hosts.start(host, {CANNERY_ENGINE_PROGRAM, "--connection-file", file,
                                      "--exit-with-parent", "--no-shared-memory"}));
  }
  controller->wait_for_engines(4, 60s);

  // apply, on each engine.
  for (int id : controller->engine_ids())
    CHECK(controller->apply(id, "add", 1.0, 2.0).get<double>(30s) == 3.0);

  // map, spread over them.
  cannery::MapOptions spread;
  spread.chunk_size = 5;
  std::vector<double> values(100);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(i);
  const std::vector<double> squares = controller->map("square", spread, values).get<double>(60s);
  REQUIRE(squares.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    CHECK(squares[i] == values[i] * values[i]);

  // put: 8 MB used by 12 tasks crosses each engine's link at most once.
  const std::uint64_t before = controller->bytes_sent();
  {
    cannery::ObjectRef ref = controller->put(std::vector<double>(1 << 20, 1.0));
    std::vector<cannery::AsyncResult> uses;
    for (int t = 0; t < 12; ++t)
      uses.push_back(controller->apply(cannery::any_engine, "nbytes", ref));
    for (auto& r : uses)
      CHECK(r.get<std::int64_t>(60s) == (std::int64_t{1} << 20) * 8);
  }
  CHECK(controller->bytes_sent() - before < 4 * (std::uint64_t{8} << 20) + (1 << 20));

  // An engine killed mid-task: its task ends once, on another engine.
  cannery::ApplyOptions retry;
  retry.retries = 2;
  std::vector<cannery::AsyncResult> sleeps;
  for (int t = 0; t < 4; ++t)
    sleeps.push_back(
        controller->apply_with(retry, cannery::any_engine, "sleep_ms", std::int64_t{1500}));
  std::this_thread::sleep_for(300ms);
  REQUIRE(::kill(pids.front(), SIGKILL) == 0);
  std::set<int> ran_on;
  for (auto& r : sleeps) {
    r.get(60s);
    ran_on.insert(r.engine_id());
  }
  const cannery::ControllerStats stats = controller->stats();
  CHECK(stats.engines_died == 1);
  CHECK(stats.tasks_retried >= 1);
  CHECK(controller->engine_ids().size() == 3);
  CHECK(ran_on.size() >= 2);
}
