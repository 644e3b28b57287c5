// Replies an engine cannot hand to libzmq at once (its queue to the
// controller is full while the controller is busy elsewhere) wait in the
// engine and go, in order, as soon as there is room: never dropped.

#include <cannery/messaging/frames.hpp>

#include "scripted_controller.hpp"

namespace {

using namespace cannery::test;
using cannery::Buffer;

}  // namespace

TEST_CASE("replies wait for room in the queue to a slow controller: none is dropped",
          "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine();
  REQUIRE(running.has_id_within(3));

  // 4,000 echoes of 16 KiB, sent before any reply is read: far more than
  // the engine's queue (1,000 messages) and the socket buffers hold.
  constexpr std::int64_t tasks = 4000;
  const std::vector<Buffer> call =
      cannery::pack_apply_message("echo", std::vector<double>(2048, 1.5));
  for (std::int64_t task = 1; task <= tasks; ++task) {
    cannery::Message m = controller.session.message(
        proto::apply_request, cannery::Object::Dict{{std::string(proto::task), task}});
    m.identities = {controller.peer};
    m.buffers = call;
    controller.session.send(controller.router, m);
  }
  // The engine answers them all, and finds its queue full on the way.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (running.engine.stats().requests_answered < static_cast<std::uint64_t>(tasks) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(running.engine.stats().requests_answered == static_cast<std::uint64_t>(tasks));

  std::int64_t next = 1;
  while (next <= tasks) {
    auto reply = controller.expect(proto::apply_reply, 10s);
    if (!reply) break;
    // In the order the requests came.
    REQUIRE(reply->content.at(proto::task).to_int64() == next);
    ++next;
  }
  CHECK(next == tasks + 1);
  CHECK_FALSE(log.contains("dropped"));
}
