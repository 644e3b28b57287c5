// Signals the program handles land on whichever of its threads does not
// block them, the controller's own threads included. They used to end the
// controller's I/O thread (zmq::poll threw zmq::error_t for EINTR), failing
// every task, and its heart thread, whose engines were then declared dead.

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "cluster_fixture.hpp"
#include "handled_signal.hpp"

using namespace cannery::test;

TEST_CASE("signals the program handles do not stop the controller", "[cluster][signals]") {
  HandledSignal signal;
  cannery::ControllerOptions options;
  options.heartbeat = std::chrono::milliseconds(100);
  Cluster cluster(1, false, options);
  auto& controller = cluster.controller;
  CHECK(controller.apply(cannery::any_engine, "add", 1.0, 2.0).get<double>(30s) == 3.0);

  // From here the signals sent to the process land on the controller's
  // threads (libzmq's own threads block every signal).
  HandledSignal::block_here();
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 10; ++i) {
      ::kill(::getpid(), SIGUSR1);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    CHECK(controller.apply(cannery::any_engine, "add", 1.0, double(round)).get<double>(30s) ==
          1.0 + round);
  }
  // Several heartbeat periods with signals landing on the heart thread.
  for (int i = 0; i < 100; ++i) {
    ::kill(::getpid(), SIGUSR1);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(controller.apply(cannery::any_engine, "add", 2.0, 2.0).get<double>(30s) == 4.0);
  HandledSignal::unblock_here();
  const auto stats = controller.stats();
  CHECK(stats.engines_died == 0);
  CHECK(controller.engines().at(0).alive);
}
