// Engine death, retries, timeouts, exactly-once.
#include <catch2/catch.hpp>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

TEST_CASE("with default settings a silent engine's tasks fail with EngineDied within 3 s",
          "[controller]") {
  Cluster cluster(1, ControllerOptions{});  // heartbeat 500 ms x 4 misses
  auto r = cluster.controller.apply(any_engine, "hold");
  REQUIRE(wait_until([&] { return cluster[0].held() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  cluster[0].set_silent(true);
  try {
    r.get(5000ms);
    FAIL("expected EngineDied");
  } catch (const EngineDied& e) {
    CHECK(e.code() == errc::engine_died);
    CHECK(e.engine_id() == 0);
    CHECK_THAT(e.what(), Catch::Contains("no heartbeat and no message came from it"));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 3000ms);
  CHECK(took >= 1500ms);  // not before heartbeat x allowed_misses (less one tick)
  CHECK_FALSE(cluster.controller.engines().front().alive);
}

TEST_CASE("with retries a task lost with its engine completes on another", "[controller]") {
  Cluster cluster(1);
  cluster[0].set_silent(true);  // it receives the task and never answers
  ApplyOptions retry;
  retry.retries = 1;
  auto r = cluster.controller.apply_with(retry, any_engine, "whoami");
  auto plain = cluster.controller.apply(any_engine, "whoami");
  REQUIRE(wait_until([&] { return cluster[0].count("apply_request") == 2; }));
  InProcessEngine& second = cluster.add();
  CHECK(r.get<std::string>(5000ms) == second.uuid());
  CHECK(r.engine_id() == second.engine_id());
  CHECK(capture_error([&] { plain.get(5000ms); }).code() == errc::engine_died);
  CHECK(cluster.controller.stats().tasks_retried == 1);
}

TEST_CASE("an engine that disconnects is noticed when a send fails", "[controller]") {
  Cluster cluster(2);
  auto r = cluster.controller.apply(1, "hold");
  REQUIRE(wait_until([&] { return cluster[1].held() == 1; }));
  cluster.engines[1].reset();  // closes its socket
  CHECK(capture_error([&] { r.get(5000ms); }).code() == errc::engine_died);
  CHECK(cluster.controller.engine_ids() == std::vector<int>{0});
  // Work goes on with the engine that is left; targeted work to the dead one fails.
  CHECK(cluster.controller.apply(any_engine, "add", 1, 2).get<double>(5000ms) == 3);
  CHECK(capture_error([&] { cluster.controller.apply(1, "whoami").get(5000ms); }).code() ==
        errc::engine_died);
}

TEST_CASE("a task timeout ends the task, and the late reply is ignored", "[controller]") {
  Cluster cluster(1);
  ApplyOptions quick;
  quick.timeout = 50ms;
  auto r = cluster.controller.apply_with(quick, any_engine, "reply_after_ms", 300.0);
  const auto start = std::chrono::steady_clock::now();
  auto e = capture_error([&] { r.get(5000ms); });
  CHECK(e.code() == errc::timeout);
  CHECK(std::chrono::steady_clock::now() - start < 1000ms);
  REQUIRE(wait_until([&] { return cluster.controller.stats().ignored_replies == 1; }));
  // The slot was freed and the engine still serves.
  CHECK(cluster.controller.engines().front().in_flight == 0);
  CHECK(cluster.controller.apply(any_engine, "add", 1, 1).get<double>(5000ms) == 2);
}

TEST_CASE("a queued task times out too", "[controller]") {
  Controller controller(fast_options());  // no engine at all
  ApplyOptions quick;
  quick.timeout = 50ms;
  auto r = controller.apply_with(quick, any_engine, "whoami");
  CHECK(capture_error([&] { r.get(5000ms); }).code() == errc::timeout);
  MapOptions o;
  o.timeout = 50ms;
  auto m = controller.map("square", o, std::vector<double>{1, 2, 3});
  CHECK(capture_error([&] { m.get<double>(5000ms); }).code() == errc::timeout);
}

TEST_CASE("duplicate replies are ignored: every task ends exactly once", "[controller]") {
  InProcessEngineOptions twice;
  twice.duplicate_replies = true;
  Cluster cluster(2, fast_options(), twice);
  std::vector<AsyncResult> results;
  for (int i = 0; i < 50; ++i)
    results.push_back(cluster.controller.apply(any_engine, "add", i, i));
  for (int i = 0; i < 50; ++i)
    CHECK(results[static_cast<std::size_t>(i)].get<double>(5000ms) == 2 * i);
  REQUIRE(wait_until([&] { return cluster.controller.stats().ignored_replies == 50; }));
}

TEST_CASE("a reply from an engine the task was not sent to is ignored", "[controller]") {
  Cluster cluster(1);
  auto held = cluster.controller.apply(0, "hold");  // task id 1 of this controller
  REQUIRE(wait_until([&] { return cluster[0].held() == 1; }));

  // A second, hand-driven engine registers and answers task 1 itself.
  zmq::context_t context(1);
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::routing_id, "engine-forger");
  dealer.connect(cluster.controller.endpoint());
  SessionOptions so;
  so.key = cluster.controller.connection_info().key;
  Session session(so);
  session.send(dealer, protocol::make_message(session, registration("forger")));
  std::optional<Message> registered;
  for (int i = 0; i < 100 && !registered; ++i) {
    registered = session.receive(dealer, 50ms);
    if (registered && registered->header.msg_type != "registration_reply") registered.reset();
  }
  REQUIRE(registered);
  protocol::ApplyReply reply;
  reply.task = 1;
  reply.engine_id = protocol::decode<protocol::RegistrationReply>(*registered).engine_id;
  Message forged = protocol::make_message(session, reply);
  forged.buffers = serialize_object(666);
  session.send(dealer, forged);
  REQUIRE(wait_until([&] { return cluster.controller.stats().ignored_replies == 1; }));
  CHECK_FALSE(held.ready());
  cluster[0].release_held();
  CHECK(held.get<std::string>(5000ms) == cluster[0].uuid());
}

TEST_CASE("destroying the controller ends every task", "[controller]") {
  AsyncResult queued;
  AsyncMapResult mapped;
  {
    Controller controller(fast_options());
    queued = controller.apply(any_engine, "whoami");
    mapped = controller.map("square", {}, std::vector<double>{1, 2});
  }
  CHECK(queued.ready());
  CHECK(capture_error([&] { queued.get(10ms); }).code() == errc::io_error);
  CHECK(capture_error([&] { mapped.get<double>(10ms); }).code() == errc::io_error);
}
