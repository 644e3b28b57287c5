// Across test hosts (DESIGN.md, "Test hosts"): the controller on host 0, one
// engine on each of hosts 1 and 2 (no shared memory between them). A result
// kept on the engine of host 1 and used by a task on host 2 crosses from
// host 1 to host 2 over the engines' data sockets; the controller sends only
// the small requests.

#include <filesystem>
#include <string>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"
#include "test_hosts.hpp"

using namespace std::chrono_literals;
using cannery::test::TestHosts;

TEST_CASE("a kept result moves from an engine on one test host to an engine on another",
          "[dataplane]") {
  TestHosts hosts(3);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  cannery::test::TempDir dir;
  auto inside = hosts.enter(0);
  cannery::ControllerOptions options;
  options.interface = "tcp://" + TestHosts::address(0);
  options.connection_file = dir / "connection.json";
  cannery::Controller controller(options);
  for (int host : {1, 2}) {
    hosts.start(host, {CANNERY_ENGINE_PROGRAM, "--connection-file",
                       options.connection_file.string(), "--no-shared-memory"});
  }
  controller.wait_for_engines(2, cannery::test::engine_start_timeout);
  int first = -1;
  int second = -1;
  for (const cannery::EngineInfo& e : controller.engines()) {
    INFO(e.data_endpoint);
    // Each data socket is on its host's own address.
    if (e.data_endpoint.rfind("tcp://" + TestHosts::address(1) + ":", 0) == 0) first = e.id;
    if (e.data_endpoint.rfind("tcp://" + TestHosts::address(2) + ":", 0) == 0) second = e.id;
  }
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);

  constexpr std::int64_t n = 4'000'000;  // 32 MB
  cannery::ApplyOptions keep;
  keep.keep_result = true;
  const auto ramp = controller.apply_with(keep, first, "ramp", n).get<cannery::ObjectRef>(60s);
  const std::uint64_t sent_before = controller.stats().bytes_sent;
  CHECK(controller.apply(second, "sum", ramp).get<double>(120s) ==
        static_cast<double>(n) * (n - 1) / 2);
  const auto fetched = cannery::test::engine_counters(controller, second);
  CHECK(fetched.at("bytes_fetched") >= n * sizeof(double));
  CHECK(cannery::test::engine_counters(controller, first).at("bytes_served") ==
        fetched.at("bytes_fetched"));
  CHECK(controller.stats().bytes_sent - sent_before < n * sizeof(double) / 100);
}
