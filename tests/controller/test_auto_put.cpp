// Large arguments by value are put for the caller (auto_put_min_bytes): once
// per engine however many tasks are given them, released with the last task,
// put anew once the caller changed them after their tasks ended.
#include <catch2/catch.hpp>

#include <numeric>
#include <span>

#include "cluster.hpp"
#include "source_examples.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;
using cannery::test::contains_lines;
using cannery::test::markdown_cpp_blocks;
using cannery::test::source_file;

namespace {

constexpr std::size_t elements = 1 << 18;  // 2 MiB: above the 1 MiB default
constexpr std::uint64_t payload = elements * sizeof(double);

double sum_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0);
}

}  // namespace

TEST_CASE("a large lvalue given to many tasks travels once per engine", "[controller]") {
  Cluster cluster(2);
  const std::vector<double> weights = ramp(elements);
  const std::uint64_t before = cluster.controller.bytes_sent();
  // A task on each engine given the weights stays pending until the 20 have
  // been submitted: however fast they run, the object is cached throughout.
  std::vector<AsyncResult> held;
  for (int engine = 0; engine < 2; ++engine)
    held.push_back(cluster.controller.apply(engine, "hold_sum", weights));
  std::vector<AsyncResult> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(cluster.controller.apply(any_engine, "sum", weights));
  for (auto& r : results)
    CHECK(r.get<double>(5000ms) == sum_of(weights));
  cluster[0].release_held();
  cluster[1].release_held();
  for (auto& r : held)
    CHECK(r.get<double>(5000ms) == sum_of(weights));

  const std::uint64_t sent = cluster.controller.bytes_sent() - before;
  CHECK(sent >= 2 * payload);
  CHECK(sent < 3 * payload);
  CHECK(cluster[0].count("put_request") == 1);
  CHECK(cluster[1].count("put_request") == 1);
  const ControllerStats stats = cluster.controller.stats();
  CHECK(stats.auto_puts == 1);
  CHECK(stats.auto_put_reuses == 21);

  // The last task ended: both engines are told to let it go.
  REQUIRE(wait_until([&] { return cluster[0].released_refs().size() == 1; }));
  REQUIRE(wait_until([&] { return cluster[1].released_refs().size() == 1; }));
}

TEST_CASE("an object changed after its tasks ended is put anew", "[controller]") {
  Cluster cluster(1);
  std::vector<double> weights = ramp(elements);
  // No wait between a task's end and the change: the task drops its hold on
  // the cached copy before its end is told.
  for (int round = 0; round < 20; ++round) {
    weights[static_cast<std::size_t>(round)] += 1000.0;
    CHECK(cluster.controller.apply(0, "sum", weights).get<double>(5000ms) == sum_of(weights));
  }
  CHECK(cluster.controller.stats().auto_puts == 20);
  CHECK(cluster.controller.stats().auto_put_reuses == 0);
}

TEST_CASE("tasks given the same object while earlier ones wait share its copy", "[controller]") {
  Cluster cluster(0);
  const std::vector<double> weights = ramp(elements);
  // No engine yet: the tasks wait in the controller, holding the copy.
  auto first = cluster.controller.apply(any_engine, "sum", weights);
  auto second = cluster.controller.apply(any_engine, "sum", kw("values", weights));
  // The same memory but another shape is another object.
  auto half = cluster.controller.apply(any_engine, "sum",
                                       std::span<const double>(weights.data(), elements / 2));
  cluster.add();
  CHECK(first.get<double>(5000ms) == sum_of(weights));
  // Registered functions take no keyword arguments: refused, after the put.
  CHECK(capture_error([&] { second.get(5000ms); }).code() == errc::invalid_argument);
  CHECK(half.get<double>(5000ms) ==
        std::accumulate(weights.begin(), weights.begin() + elements / 2, 0.0));
  CHECK(cluster[0].count("put_request") == 2);
  CHECK(cluster.controller.stats().auto_puts == 2);
  CHECK(cluster.controller.stats().auto_put_reuses == 1);
}

TEST_CASE("an object changed while its tasks wait is seen as it was given", "[controller]") {
  Cluster cluster(0);
  std::vector<double> weights = ramp(elements);
  const double given = sum_of(weights);
  auto first = cluster.controller.apply(any_engine, "sum", weights);
  // Against the documented contract: changed while a task given it waits.
  // Both tasks get the object as it was first given, never a mix.
  weights[0] += 1000.0;
  auto second = cluster.controller.apply(any_engine, "sum", weights);
  weights.assign(elements, -1.0);  // the caller may even drop it: the put owns a copy
  cluster.add();
  CHECK(first.get<double>(5000ms) == given);
  CHECK(second.get<double>(5000ms) == given);
  CHECK(cluster.controller.stats().auto_put_reuses == 1);
}

TEST_CASE("small lvalues and moved values travel with their task", "[controller]") {
  Cluster cluster(1);
  const std::vector<double> small = ramp(1024);
  CHECK(cluster.controller.apply(0, "sum", small).get<double>(5000ms) == sum_of(small));
  std::vector<double> large = ramp(elements);
  const double expected = sum_of(large);
  CHECK(cluster.controller.apply(0, "sum", std::move(large)).get<double>(5000ms) == expected);
  CHECK(cluster[0].count("put_request") == 0);
  CHECK(cluster.controller.stats().auto_puts == 0);
}

TEST_CASE("auto_put_min_bytes = 0 sends a large lvalue with every task", "[controller]") {
  ControllerOptions options = fast_options();
  options.auto_put_min_bytes = 0;
  Cluster cluster(1, options);
  const std::vector<double> weights = ramp(elements);
  const std::uint64_t before = cluster.controller.bytes_sent();
  for (int i = 0; i < 3; ++i)
    CHECK(cluster.controller.apply(0, "sum", weights).get<double>(5000ms) == sum_of(weights));
  CHECK(cluster.controller.bytes_sent() - before >= 3 * payload);
  CHECK(cluster[0].count("put_request") == 0);
}

TEST_CASE("a broadcast of a large lvalue puts it once per engine", "[controller]") {
  Cluster cluster(3);
  const std::vector<double> weights = ramp(elements);
  const std::uint64_t before = cluster.controller.bytes_sent();
  for (auto& r : cluster.controller.broadcast("sum", weights))
    CHECK(r.get<double>(5000ms) == sum_of(weights));
  CHECK(cluster.controller.bytes_sent() - before < 4 * payload);
  for (std::size_t e = 0; e < 3; ++e)
    CHECK(cluster[e].count("put_request") == 1);
  CHECK(cluster.controller.stats().auto_puts == 1);
}

TEST_CASE("the by-value example of docs/controller.md runs as written", "[controller]") {
  Cluster cluster(2);
  Controller& controller = cluster.controller;
  auto load_weights = [] { return ramp(elements); };
  double total = 0;

  std::vector<double> weights = load_weights();
  std::vector<cannery::AsyncResult> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(controller.apply(cannery::any_engine, "sum", weights));
  for (auto& r : results)
    total += r.get<double>();  // the weights went to each engine once
  weights[0] += 1.0;           // all their tasks ended: the next task is given the new weights
  double changed = controller.apply(cannery::any_engine, "sum", weights).get<double>();

  CHECK(total == 20 * sum_of(load_weights()));
  CHECK(changed == sum_of(load_weights()) + 1.0);
  // Once for the 20 (more if some ended before others were given it: then
  // it is put again), and once for the changed weights.
  CHECK(controller.stats().auto_puts >= 2);
  CHECK(controller.stats().auto_puts + controller.stats().auto_put_reuses == 21);
  const auto blocks = markdown_cpp_blocks("docs/controller.md");
  const auto example = std::find_if(blocks.begin(), blocks.end(), [](const std::string& b) {
    return b.find("load_weights()") != std::string::npos;
  });
  REQUIRE(example != blocks.end());
  CHECK(contains_lines(source_file("tests/controller/test_auto_put.cpp"), *example));
}
