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
  constexpr std::uint64_t tasks = 4000;
  const std::vector<Buffer> call =
      cannery::pack_apply_message("echo", std::vector<double>(2048, 1.5));
  for (std::uint64_t task = 1; task <= tasks; ++task)
    controller.send(apply_task(task), call);
  // The engine answers them all, and finds its queue full on the way.
  CHECK(within(60s, [&] { return running.engine.stats().requests_answered >= tasks; }));
  CHECK(running.engine.stats().requests_answered == tasks);

  std::uint64_t next = 1;
  while (next <= tasks) {
    auto reply = controller.expect<proto::ApplyReply>(10s);
    if (!reply) break;
    // In the order the requests came.
    REQUIRE(reply->content.task == next);
    ++next;
  }
  CHECK(next == tasks + 1);
  CHECK_FALSE(log.contains("dropped"));
}
