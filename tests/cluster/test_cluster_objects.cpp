// put references move the object once per engine; push and pull named values.

#include <map>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using cannery::test::Cluster;

TEST_CASE("a put object reaches each engine once, however many tasks use it", "[cluster]") {
  Cluster cluster(2);
  auto& controller = cluster.controller;
  std::map<std::string, std::vector<double>> weights;
  for (int i = 0; i < 10; ++i)
    weights.emplace("w" + std::to_string(i), std::vector<double>(100000, 1.0));
  const std::uint64_t payload = 10 * 100000 * sizeof(double);

  const auto before = controller.bytes_sent();
  cannery::ObjectRef ref = controller.put(std::move(weights));
  std::vector<cannery::AsyncResult> tasks;
  for (int i = 0; i < 20; ++i)
    tasks.push_back(controller.apply(cannery::any_engine, "sum_all", ref));
  for (auto& task : tasks)
    CHECK(task.get<double>(60s) == 1e6);
  const auto sent = controller.bytes_sent() - before;
  // Two engines: the weights went out at most twice, plus small headers.
  CHECK(sent >= payload);
  CHECK(sent < 2 * payload + 1'000'000);

  // By value, the same lvalue is put for the caller: it too goes to each
  // engine once (here through shared memory), however many tasks get it.
  std::map<std::string, std::vector<double>> again;
  for (int i = 0; i < 10; ++i)
    again.emplace("w" + std::to_string(i), std::vector<double>(100000, 1.0));
  const auto by_value_before = controller.stats();
  // The engines sleep first, so that no task given the weights ends before
  // all 20 are submitted (one that did would let them go: a later task
  // would put them again).
  std::vector<cannery::AsyncResult> sleeps;
  for (int id : controller.engine_ids())
    sleeps.push_back(controller.apply(id, "sleep_ms", std::int64_t{1000}));
  tasks.clear();
  for (int i = 0; i < 20; ++i)
    tasks.push_back(controller.apply(cannery::any_engine, "sum_all", again));
  for (auto& task : tasks)
    CHECK(task.get<double>(60s) == 1e6);
  for (auto& sleep : sleeps)
    sleep.get(60s);
  const auto by_value_after = controller.stats();
  CHECK(by_value_after.auto_puts - by_value_before.auto_puts == 1);
  CHECK(by_value_after.bytes_sent - by_value_before.bytes_sent +
            (by_value_after.shared_memory_bytes - by_value_before.shared_memory_bytes) <
        2 * payload + 1'000'000);

  // A copy handed to each task travels with each: 20 times.
  const auto copies_before = controller.bytes_sent();
  tasks.clear();
  for (int i = 0; i < 20; ++i)
    tasks.push_back(controller.apply(cannery::any_engine, "sum_all", std::map(again)));
  for (auto& task : tasks)
    CHECK(task.get<double>(60s) == 1e6);
  CHECK(controller.bytes_sent() - copies_before >= 20 * payload);
}

TEST_CASE("pushed values can be pulled back by name", "[cluster]") {
  Cluster cluster(2);
  auto& controller = cluster.controller;
  const int target = controller.engines().back().id;
  controller.push(
      target, {{"alpha", cannery::Object(1.5)}, {"label", cannery::Object(std::string("run-7"))}});
  CHECK(controller.pull(target, "alpha").get<double>(30s) == 1.5);
  CHECK(controller.pull(target, "label").get<std::string>(30s) == "run-7");
  CHECK_THROWS_AS(controller.pull(target, "missing").get<double>(30s), cannery::RemoteError);
}
