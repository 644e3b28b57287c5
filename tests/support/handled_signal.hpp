#pragma once
// A signal the program handles, as a timer, a child's end or a profiler's
// tick would be: SIGUSR1 with a handler that does nothing, installed without
// SA_RESTART for the life of a HandledSignal, so that it interrupts the
// system call the thread it lands on waits in (EINTR).

#include <pthread.h>
#include <signal.h>

#include <catch2/catch.hpp>

namespace cannery::test {

class HandledSignal {
 public:
  HandledSignal() {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    REQUIRE(::sigaction(SIGUSR1, &action, &previous_) == 0);
  }
  ~HandledSignal() { ::sigaction(SIGUSR1, &previous_, nullptr); }
  HandledSignal(const HandledSignal&) = delete;
  HandledSignal& operator=(const HandledSignal&) = delete;

  // This thread takes it no more: the process's signals then land on its
  // other threads (threads started later inherit the block).
  static void block_here() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0);
  }
  static void unblock_here() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }

 private:
  struct sigaction previous_ {};
};

}  // namespace cannery::test
