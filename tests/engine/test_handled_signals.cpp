// Signals the engine's program handles (a plugin's timer, a profiler) land on
// whichever thread does not block them: the engine's loop and its heart go on
// serving and beating through them.

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "handled_signal.hpp"
#include "scripted_controller.hpp"

using namespace cannery::test;

TEST_CASE("an engine serves and beats through signals its program handles", "[engine][runtime]") {
  HandledSignal signal;
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();
  REQUIRE(running.has_id_within(3));
  REQUIRE(controller.more_heartbeats_within(2, 5s));

  // The signals now land on the engine's threads and the scripted
  // controller's heart thread, not on this one.
  HandledSignal::block_here();
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 10; ++i) {
      ::kill(::getpid(), SIGUSR1);
      std::this_thread::sleep_for(5ms);
    }
    CHECK(result_of<double>(controller.apply("add", 1.0, double(round))) == 1.0 + round);
  }
  CHECK(controller.more_heartbeats_within(5, 5s));
  HandledSignal::unblock_here();
  CHECK(running.engine.stats().controller_losses == 0);
}
