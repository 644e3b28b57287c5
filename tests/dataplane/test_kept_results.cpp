// Results kept on engines (ApplyOptions::keep_result): the ref comes back,
// not the object; a task left to the scheduler runs where the object is; a
// task aimed at another engine gets it engine to engine, never through the
// controller; get<T>() brings it to the controller; a lost holder makes
// ObjectLost, naming the ref, the engine and the function.

#include <signal.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"
#include "source_examples.hpp"

using namespace std::chrono_literals;
using cannery::test::Cluster;
using cannery::test::engine_counters;

namespace {

constexpr std::int64_t kept_doubles = 2'000'000;  // 16 MB of doubles

cannery::ApplyOptions keep() {
  cannery::ApplyOptions o;
  o.keep_result = true;
  return o;
}

}  // namespace

TEST_CASE("a kept result stays on its engine, moves engine to engine and comes back with get",
          "[dataplane]") {
  Cluster cluster(2);
  cannery::Controller& controller = cluster.controller;
  const std::uint64_t sent_before = controller.stats().bytes_sent;

  cannery::AsyncResult made =
      controller.apply_with(keep(), cannery::any_engine, "ramp", kept_doubles);
  const cannery::ObjectRef ramp = made.get<cannery::ObjectRef>(30s);
  const int holder = made.engine_id();
  CHECK(ramp.nbytes() >= kept_doubles * sizeof(double));
  CHECK(controller.stats().kept_results == 1);

  // Left to the scheduler, tasks that take it run where it is.
  for (int i = 0; i < 4; ++i) {
    cannery::AsyncResult used = controller.apply(cannery::any_engine, "sum", ramp);
    CHECK(used.get<double>(30s) == cannery::test::iota_sum(kept_doubles));
    CHECK(used.engine_id() == holder);
  }
  CHECK(controller.stats().fetch_requests == 0);

  // Aimed at the other engine: it fetches the object from the holder.
  const int other = controller.engine_ids().front() == holder ? controller.engine_ids().back()
                                                              : controller.engine_ids().front();
  REQUIRE(other != holder);
  CHECK(controller.apply(other, "sum", ramp).get<double>(30s) ==
        cannery::test::iota_sum(kept_doubles));
  CHECK(controller.apply(other, "sum", ramp).get<double>(30s) ==
        cannery::test::iota_sum(kept_doubles));  // fetched once
  CHECK(controller.stats().fetch_requests == 1);
  const auto served = engine_counters(controller, holder);
  const auto fetched = engine_counters(controller, other);
  CHECK(served.at("objects_served") == 1);
  CHECK(served.at("bytes_served") >= kept_doubles * sizeof(double));
  CHECK(fetched.at("objects_fetched") == 1);
  CHECK(fetched.at("bytes_fetched") == served.at("bytes_served"));
  // The object never went through the controller: what it sent is small.
  CHECK(controller.stats().bytes_sent - sent_before < kept_doubles * sizeof(double) / 100);

  // get<T> brings it here.
  const auto values = ramp.get<std::vector<double>>(30s);
  REQUIRE(values.size() == static_cast<std::size_t>(kept_doubles));
  CHECK(values[12345] == 12345.0);

  // A task that kept nothing has no ref to give.
  CHECK_THROWS_AS(controller.apply(cannery::any_engine, "add", 1.0, 2.0).get<cannery::ObjectRef>(),
                  cannery::error);
  // keep_result is for apply.
  CHECK_THROWS_AS(controller.broadcast_with(keep(), "pid"), cannery::error);
}

TEST_CASE("a kept result whose only holder died is ObjectLost for the tasks that take it",
          "[dataplane]") {
  Cluster cluster(2);
  cannery::Controller& controller = cluster.controller;
  cannery::AsyncResult made =
      controller.apply_with(keep(), cannery::any_engine, "ramp", kept_doubles);
  const cannery::ObjectRef ramp = made.get<cannery::ObjectRef>(30s);
  const int holder = made.engine_id();
  // A task queued behind a long one on the holder, when the holder dies.
  auto busy = controller.apply(holder, "sleep_ms", std::int64_t{20000});
  cannery::ApplyOptions retry;
  retry.retries = 3;
  auto waiting = controller.apply_with(retry, cannery::any_engine, "sum", ramp);
  std::this_thread::sleep_for(300ms);
  REQUIRE(::kill(cannery::test::pid_of(controller, holder), SIGKILL) == 0);
  REQUIRE(cannery::test::declared_dead_within(controller, holder, 15s));

  auto check_lost = [&](const cannery::AsyncResult& task) {
    try {
      task.get<double>(15s);
      FAIL("expected ObjectLost");
    } catch (const cannery::ObjectLost& e) {
      CHECK(e.code() == cannery::errc::object_lost);
      CHECK(e.ref_id() == ramp.id());
      CHECK(e.engine_id() == holder);
      CHECK(e.function() == "ramp");
      CHECK_THAT(e.message(), Catch::Contains("object ref " + std::to_string(ramp.id())) &&
                                  Catch::Contains("'ramp'") &&
                                  Catch::Contains("engine " + std::to_string(holder)) &&
                                  Catch::Contains("died"));
    }
  };
  check_lost(waiting);                                             // retries do not bring it back
  check_lost(controller.apply(cannery::any_engine, "sum", ramp));  // nor does a new task
  CHECK_THROWS_AS(ramp.get<std::vector<double>>(15s), cannery::ObjectLost);
  CHECK_THROWS_AS(busy.get<std::int64_t>(15s), cannery::EngineDied);
  // The other engine goes on.
  CHECK(controller.apply(cannery::any_engine, "add", 1.0, 2.0).get<double>(15s) == 3.0);
}

TEST_CASE("a kept result is dropped by every engine holding it when its last ref goes",
          "[dataplane]") {
  Cluster cluster(2);
  cannery::Controller& controller = cluster.controller;
  const std::string key = controller.connection_info().key;
  const std::vector<cannery::EngineInfo> engines = controller.engines();
  std::uint64_t id = 0;
  {
    const auto ramp = controller.apply_with(keep(), engines[0].id, "ramp", std::int64_t{1000})
                          .get<cannery::ObjectRef>(30s);
    id = ramp.id();
    CHECK(controller.apply(engines[1].id, "sum", ramp).get<double>(30s) == 499500.0);
    for (const cannery::EngineInfo& e : engines) {
      auto reply = cannery::test::ask_for_object(e.data_endpoint, key, id);
      REQUIRE(reply);
      CHECK(cannery::protocol::decode<cannery::protocol::ObjectReply>(*reply).found);
    }
  }
  // The ref is gone: both engines drop the object (release_request).
  for (const cannery::EngineInfo& e : engines) {
    bool found = true;
    for (int i = 0; i < 100 && found; ++i) {
      auto reply = cannery::test::ask_for_object(e.data_endpoint, key, id);
      REQUIRE(reply);
      found = cannery::protocol::decode<cannery::protocol::ObjectReply>(*reply).found;
      if (found) std::this_thread::sleep_for(50ms);
    }
    CHECK_FALSE(found);
  }
}

TEST_CASE("the kept-result example of docs/controller.md and object_ref.hpp runs as written",
          "[dataplane]") {
  Cluster cluster(2);
  cannery::Controller& controller = cluster.controller;

  cannery::ApplyOptions keep;
  keep.keep_result = true;
  cannery::AsyncResult made =
      controller.apply_with(keep, cannery::any_engine, "ramp", std::int64_t{1000});
  cannery::ObjectRef ramp = made.get<cannery::ObjectRef>();  // ramp.nbytes(): its size there
  double total = controller.apply(cannery::any_engine, "sum", ramp).get<double>();  // 499500
  std::vector<double> values = ramp.get<std::vector<double>>();                     // brought here

  CHECK(total == 499500.0);
  CHECK(values.size() == 1000);
  CHECK(ramp.nbytes() >= 8000);
  const std::string here = cannery::test::source_file("tests/dataplane/test_kept_results.cpp");
  const auto blocks = cannery::test::markdown_cpp_blocks("docs/controller.md");
  const auto example = std::find_if(blocks.begin(), blocks.end(), [](const std::string& b) {
    return b.find("keep.keep_result = true;") != std::string::npos;
  });
  REQUIRE(example != blocks.end());
  CHECK(cannery::test::contains_lines(here, *example));
  const auto header =
      cannery::test::header_comment_blocks("controller/include/cannery/controller/object_ref.hpp");
  REQUIRE(header.size() == 1);
  CHECK(cannery::test::contains_lines(here, header[0]));
}
