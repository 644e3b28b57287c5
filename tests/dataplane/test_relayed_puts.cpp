// Relayed puts on one host (docs/controller.md, "Large puts to many
// engines"): a large put() used by tasks on several engines leaves the
// controller once, from its relay socket; the engines pass it on to one
// another, or map the copy of the engine of their /dev/shm that received it.

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"
#include "source_examples.hpp"

using namespace std::chrono_literals;
using cannery::test::engine_counters;

namespace {

constexpr std::size_t relayed_doubles = 4'000'000;  // 32 MB of doubles

// A controller with `engines` local engines, started with `engine_args`.
struct RelayCluster {
  RelayCluster(std::size_t engines, cannery::ControllerOptions options,
               std::vector<std::string> engine_args)
      : controller(std::move(options)) {
    cannery::EngineSpawnOptions spawn = cannery::test::engine_program();
    spawn.extra_args = std::move(engine_args);
    controller.spawn_local_engines(engines, spawn);
    controller.wait_for_engines(engines, cannery::test::engine_start_timeout);
  }
  cannery::Controller controller;
};

// Every engine sums the put object once; all sums must be right.
void sum_everywhere(cannery::Controller& controller, const cannery::ObjectRef& ref) {
  std::vector<cannery::AsyncResult> sums = controller.broadcast("sum", ref);
  for (cannery::AsyncResult& s : sums)
    CHECK(s.get<double>(120s) == cannery::test::iota_sum(relayed_doubles));
}

}  // namespace

TEST_CASE("a relayed put leaves the controller once and engines pass it on", "[dataplane]") {
  cannery::ControllerOptions options;
  RelayCluster cluster(4, options, {"--no-shared-memory"});  // no engine sees another's copy
  cannery::Controller& controller = cluster.controller;
  const cannery::ObjectRef ref = controller.put(cannery::test::iota_doubles(relayed_doubles));
  sum_everywhere(controller, ref);

  const cannery::RefStats stats = ref.stats();
  const auto size = static_cast<std::uint64_t>(ref.nbytes());
  CHECK(stats.relay_fetches == 4);
  CHECK(stats.controller_bytes == size);  // once, from the relay socket
  CHECK(stats.engine_bytes == 3 * size);  // passed on three times
  CHECK(stats.shared_memory_handoffs == 0);
  CHECK(controller.stats().relay_bytes_sent == size);

  std::uint64_t served = 0;
  std::uint64_t fetched = 0;
  for (int id : controller.engine_ids()) {
    const auto counters = engine_counters(controller, id);
    served += counters.at("bytes_served");
    fetched += counters.at("bytes_fetched");
  }
  CHECK(fetched == 4 * size);
  CHECK(served == 3 * size);

  // Used again: nothing moves.
  sum_everywhere(controller, ref);
  CHECK(ref.stats().controller_bytes == size);
  CHECK(ref.stats().relay_fetches == 4);
}

TEST_CASE("engines that share a /dev/shm map the copy one of them received", "[dataplane]") {
  // The controller does not write the object to shared memory itself, so
  // the engines of its host are sent it like engines elsewhere would be.
  cannery::ControllerOptions options;
  options.shared_memory = false;
  RelayCluster cluster(3, options, {});
  cannery::Controller& controller = cluster.controller;
  const cannery::ObjectRef ref = controller.put(cannery::test::iota_doubles(relayed_doubles));
  sum_everywhere(controller, ref);

  const cannery::RefStats stats = ref.stats();
  CHECK(stats.relay_fetches == 3);
  CHECK(stats.controller_bytes == ref.nbytes());
  CHECK(stats.engine_bytes == 0);
  CHECK(stats.shared_memory_handoffs == 2);
}

TEST_CASE("puts below relay_min_bytes or with relays off go to each engine", "[dataplane]") {
  for (const bool relay : {true, false}) {
    cannery::ControllerOptions options;
    options.relay = relay;
    options.relay_min_bytes = relay ? std::size_t{64} << 20 : options.relay_min_bytes;
    RelayCluster cluster(2, options, {"--no-shared-memory"});
    cannery::Controller& controller = cluster.controller;
    const cannery::ObjectRef ref = controller.put(cannery::test::iota_doubles(relayed_doubles));
    sum_everywhere(controller, ref);
    CHECK(ref.stats().relay_fetches == 0);
    CHECK(ref.stats().controller_bytes == 2 * ref.nbytes());
    CHECK(controller.stats().relay_bytes_sent == 0);
  }
}

TEST_CASE("a relayed put given by value to broadcast goes out once", "[dataplane]") {
  RelayCluster cluster(3, {}, {"--no-shared-memory"});
  cannery::Controller& controller = cluster.controller;
  const std::vector<double> values = cannery::test::iota_doubles(relayed_doubles);
  // Borrowed by value: put for the caller (auto_put_min_bytes), then relayed.
  std::vector<cannery::AsyncResult> sums = controller.broadcast("sum", std::span(values));
  for (cannery::AsyncResult& s : sums)
    CHECK(s.get<double>(120s) == cannery::test::iota_sum(relayed_doubles));
  const cannery::ControllerStats stats = controller.stats();
  CHECK(stats.auto_puts == 1);
  CHECK(stats.relay_fetches == 3);
  CHECK(stats.relay_bytes_sent >= values.size() * sizeof(double));
  CHECK(stats.relay_bytes_sent < values.size() * sizeof(double) + 4096);
}

TEST_CASE("the relay example of docs/controller.md runs as written", "[dataplane]") {
  RelayCluster cluster(2, {}, {"--no-shared-memory"});
  cannery::Controller& controller = cluster.controller;
  std::vector<double> big = cannery::test::iota_doubles(relayed_doubles);

  cannery::ObjectRef table = controller.put(std::move(big));  // at least relay_min_bytes
  for (cannery::AsyncResult& sum : controller.broadcast("sum", table))
    sum.get<double>();                      // one task on every engine
  cannery::RefStats moved = table.stats();  // controller_bytes: the object's size, once

  CHECK(moved.controller_bytes == table.nbytes());
  CHECK(moved.engine_bytes == table.nbytes());
  const std::string here = cannery::test::source_file("tests/dataplane/test_relayed_puts.cpp");
  const auto blocks = cannery::test::markdown_cpp_blocks("docs/controller.md");
  const auto example = std::find_if(blocks.begin(), blocks.end(), [](const std::string& b) {
    return b.find("table.stats()") != std::string::npos;
  });
  REQUIRE(example != blocks.end());
  CHECK(cannery::test::contains_lines(here, *example));
}
