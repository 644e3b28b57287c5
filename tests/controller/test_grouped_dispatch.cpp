// How leastload places a queue of tasks: deep queues in groups of consecutive
// tasks per engine, never more than an engine's share of what waits.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

namespace {

// Which engine ran each element of a map of `n` one-element chunks
// (submitted together, so the I/O thread finds them queued together).
std::vector<std::string> engine_per_element(Cluster& cluster, std::size_t n) {
  MapOptions one_each;
  one_each.chunk_size = 1;
  return cluster.controller.map("which_engine", one_each, std::vector<double>(n, 1.0))
      .get<std::string>(60s);
}

std::map<std::string, std::size_t> tasks_per_engine(const std::vector<std::string>& engines) {
  std::map<std::string, std::size_t> count;
  for (const std::string& e : engines)
    ++count[e];
  return count;
}

}  // namespace

TEST_CASE("a deep queue goes to each engine in groups of consecutive tasks", "[controller]") {
  Cluster cluster(4);
  const std::vector<std::string> ran = engine_per_element(cluster, 1024);
  // One task per engine in turn would change engines at almost every
  // element; groups of up to a batch (64) change about every 64.
  std::size_t changes = 0;
  for (std::size_t i = 1; i < ran.size(); ++i)
    changes += ran[i] != ran[i - 1] ? 1 : 0;
  INFO("engine changes along the map: " << changes);
  CHECK(changes <= 1024 / 64 * 2);
  const auto count = tasks_per_engine(ran);
  CHECK(count.size() == 4);
  for (const auto& [engine, n] : count) {
    INFO(engine << " ran " << n);
    CHECK(n >= 1024 / 8);
  }
}

TEST_CASE("no more tasks wait than engines have room: one task to each idle engine",
          "[controller]") {
  Cluster cluster(4);
  const auto count = tasks_per_engine(engine_per_element(cluster, 4));
  CHECK(count.size() == 4);
}

TEST_CASE("grouped tasks never give an engine more than its share of the queue", "[controller]") {
  // Held tasks stay in flight, so where each went is where the controller
  // put it: 100 over 4 idle engines is 25 each, as one task at a time would
  // place them, however the submissions reach the I/O thread.
  Cluster cluster(4);
  std::vector<AsyncResult> results;
  for (int i = 0; i < 100; ++i)
    results.push_back(cluster.controller.apply(any_engine, "hold"));
  REQUIRE(wait_until([&] {
    std::size_t held = 0;
    for (std::size_t e = 0; e < 4; ++e)
      held += cluster[e].held();
    return held == 100;
  }));
  for (std::size_t e = 0; e < 4; ++e) {
    INFO("engine " << e);
    CHECK(cluster[e].held() == 25);
  }
  for (std::size_t e = 0; e < 4; ++e)
    cluster[e].release_held();
  for (auto& r : results)
    r.get(10s);
}
