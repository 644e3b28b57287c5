// Relayed puts across test hosts (DESIGN.md, "Test hosts"; each host has a
// /dev/shm of its own): the controller on host 0, engines on the others. A
// put used by tasks on 8 engines on 4 hosts leaves the controller once, and
// crosses each host's link once: one engine per host receives it, the other
// maps that copy. An engine killed while it passes the object on does not
// stall the engines after it, and every task ends once.

#include <signal.h>

#include <numeric>
#include <string>
#include <vector>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"
#include "test_hosts.hpp"

using namespace std::chrono_literals;
using cannery::test::TestHosts;

namespace {

constexpr std::size_t hosts_doubles = 12'500'000;  // 100 MB of doubles: 0.8 s over a 1 Gbit/s link

// A controller on host 0 and `per_host` engines on each of hosts 1..k.
struct HostsCluster {
  HostsCluster(TestHosts& hosts, int per_host) : inside(hosts.enter(0)), controller(options()) {
    for (int host = 1; host < hosts.size(); ++host)
      for (int i = 0; i < per_host; ++i)
        hosts.start(host, {CANNERY_ENGINE_PROGRAM, "--connection-file", file().string()});
    controller.wait_for_engines(static_cast<std::size_t>((hosts.size() - 1) * per_host),
                                cannery::test::engine_start_timeout);
  }
  cannery::ControllerOptions options() {
    cannery::ControllerOptions o;
    o.interface = "tcp://" + TestHosts::address(0);
    o.connection_file = file();
    return o;
  }
  std::filesystem::path file() const { return dir / "connection.json"; }

  cannery::test::TempDir dir;
  TestHosts::Inside inside;
  cannery::Controller controller;
};

}  // namespace

TEST_CASE("a put used by tasks on 8 engines on 4 test hosts leaves the controller once",
          "[dataplane]") {
  TestHosts hosts(5);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  HostsCluster cluster(hosts, 2);
  cannery::Controller& controller = cluster.controller;
  const std::uint64_t sent_before = controller.stats().bytes_sent;
  const cannery::ObjectRef ref = controller.put(cannery::test::iota_doubles(hosts_doubles));
  std::vector<cannery::AsyncResult> sums = controller.broadcast("sum", ref);
  REQUIRE(sums.size() == 8);
  for (cannery::AsyncResult& s : sums)
    CHECK(s.get<double>(180s) == cannery::test::iota_sum(hosts_doubles));

  const cannery::RefStats stats = ref.stats();
  const auto size = static_cast<std::uint64_t>(ref.nbytes());
  CHECK(stats.relay_fetches == 8);
  CHECK(stats.controller_bytes == size);
  CHECK(stats.engine_bytes == 3 * size);     // host to host, three times
  CHECK(stats.shared_memory_handoffs == 4);  // the second engine of each host
  CHECK(controller.stats().bytes_sent - sent_before < size + size / 10);
}

TEST_CASE("an engine killed while it relays a put does not stall the engines after it",
          "[dataplane]") {
  TestHosts hosts(5);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  HostsCluster cluster(hosts, 1);
  cannery::Controller& controller = cluster.controller;
  const cannery::ObjectRef ref = controller.put(cannery::test::iota_doubles(hosts_doubles));
  const std::vector<int> ids = controller.engine_ids();
  REQUIRE(ids.size() == 4);
  std::vector<cannery::AsyncResult> sums = controller.broadcast("sum", ref);
  // Engines join the relay in the order of their ids: the second passes the
  // object to the third and fourth. Killed while it receives it.
  std::this_thread::sleep_for(300ms);
  const int victim = ids.at(1);
  REQUIRE(::kill(cannery::test::pid_of(controller, victim), SIGKILL) == 0);

  int ended_well = 0;
  int failed = 0;
  for (cannery::AsyncResult& s : sums) {
    try {
      const double sum = s.get<double>(180s);
      CHECK(sum == cannery::test::iota_sum(hosts_doubles));
      CHECK(s.engine_id() != victim);
      ++ended_well;
    } catch (const cannery::EngineDied& e) {
      CHECK(e.engine_id() == victim);
      ++failed;
    }
  }
  CHECK(ended_well == 3);
  CHECK(failed == 1);
  CHECK(cannery::test::declared_dead_within(controller, victim, 30s));
  // The survivors after it took the rest from an engine before it, not from
  // the controller again.
  CHECK(ref.stats().controller_bytes < 2 * ref.nbytes());
}
