// Bounded queues: per-engine in-flight limit and the controller's pending limit.
#include <catch2/catch.hpp>
#include <future>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

TEST_CASE("at most max_in_flight_per_engine tasks are outstanding per engine", "[controller]") {
  ControllerOptions o = fast_options();
  o.max_in_flight_per_engine = 3;
  Cluster cluster(2, o);
  std::vector<AsyncResult> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(cluster.controller.apply(any_engine, "hold"));
  REQUIRE(wait_until([&] { return cluster[0].held() == 3 && cluster[1].held() == 3; }));
  std::this_thread::sleep_for(50ms);
  CHECK(cluster[0].held() == 3);  // the rest wait in the controller
  for (const auto& e : cluster.controller.engines())
    CHECK(e.in_flight == 3);
  std::size_t done = 0;
  while (done < results.size()) {
    cluster[0].release_held();
    cluster[1].release_held();
    done = static_cast<std::size_t>(std::count_if(results.begin(), results.end(),
                                                  [](const AsyncResult& r) { return r.ready(); }));
    std::this_thread::sleep_for(2ms);
  }
  for (auto& r : results)
    r.get(10ms);
  CHECK(cluster[0].max_held() <= 3);
  CHECK(cluster[1].max_held() <= 3);
}

TEST_CASE("apply blocks while max_pending tasks are queued, then goes on", "[controller]") {
  ControllerOptions o = fast_options();
  o.max_pending = 4;
  Controller controller(o);
  std::vector<AsyncResult> first;
  for (int i = 0; i < 4; ++i)
    first.push_back(controller.apply(any_engine, "add", i, 0));  // no engine yet: all pending
  auto fifth =
      std::async(std::launch::async, [&] { return controller.apply(any_engine, "add", 4, 0); });
  CHECK(fifth.wait_for(200ms) == std::future_status::timeout);  // blocked: back-pressure
  InProcessEngine engine(controller.connection_info());
  REQUIRE(fifth.wait_for(5000ms) == std::future_status::ready);
  CHECK(fifth.get().get<double>(5000ms) == 4);
  for (int i = 0; i < 4; ++i)
    CHECK(first[static_cast<std::size_t>(i)].get<double>(5000ms) == i);
}

TEST_CASE("a map larger than max_pending is fed in as room frees", "[controller]") {
  ControllerOptions o = fast_options();
  o.max_pending = 8;
  o.max_in_flight_per_engine = 2;
  Cluster cluster(2, o);
  std::vector<double> values(300);
  std::iota(values.begin(), values.end(), 0.0);
  auto squares = cluster.controller.map("square", {}, values).get<double>(10000ms);
  REQUIRE(squares.size() == 300);
  CHECK(squares[299] == 299.0 * 299.0);
}
