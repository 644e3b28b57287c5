// An idle engine's run() thread sleeps until it has something to do: a
// message, stop(), a stop signal or the heart's unknown_engine (the last in
// test_engine_runtime.cpp, within 2 s of a registration with 10 s of
// patience, which the loop would otherwise sleep through).

#include <pthread.h>

#include <csignal>

#include "proc_threads.hpp"
#include "scripted_controller.hpp"

using namespace cannery::test;

TEST_CASE("an idle engine's loop sleeps until there is something to do", "[engine][runtime]") {
  ScriptedController controller;
  auto options = options_for(controller);
  options.stop_on_signals = true;
  RunningEngine running(options);
  // Functions run on run()'s thread: this one names it for /proc.
  running.engine.function("name_this_thread", [] {
    return ::pthread_setname_np(::pthread_self(), "test-idle-loop") == 0;
  });
  running.start();
  // Heartbeats every 50 ms, all answered; 10 s of patience, so nothing but
  // news wakes the loop within the seconds this test waits.
  controller.register_engine();
  controller.send(apply_task(1), cannery::pack_apply_message("name_this_thread"));
  REQUIRE(controller.expect<proto::ApplyReply>(2s));

  const long before = sleeps_of_threads_named("test-idle-loop");
  std::this_thread::sleep_for(1s);
  // It used to wake every 100 ms to look at stop(), signals and the heart:
  // ten times in as long.
  CHECK(sleeps_of_threads_named("test-idle-loop") - before <= 2);

  SECTION("a request wakes it") {
    controller.send(apply_task(2), cannery::pack_apply_message("square", 3.0));
    auto reply = controller.expect<proto::ApplyReply>(2s);
    REQUIRE(reply);
    CHECK(reply->content.task == 2);
    CHECK(reply->content.status == proto::Status::ok);
  }
  SECTION("stop() wakes it") {
    running.engine.stop();
    CHECK(running.finished_within(3s));
  }
  SECTION("SIGTERM wakes it") {
    std::raise(SIGTERM);
    CHECK(running.finished_within(3s));
  }
}
