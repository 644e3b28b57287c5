#include "signals.hpp"

#include <unistd.h>

namespace cannery::detail {

namespace {

std::atomic<int> stop_signal{0};
std::atomic<WakeFd*> stop_wake{nullptr};
static_assert(std::atomic<int>::is_always_lock_free, "signal handlers need a lock-free flag");
static_assert(std::atomic<WakeFd*>::is_always_lock_free,
              "signal handlers need a lock-free pointer");

extern "C" void on_stop_signal(int signal) {
  if (stop_signal.exchange(signal) != 0) ::_exit(128 + signal);
  if (WakeFd* wake = stop_wake.load()) wake->notify();
}

}  // namespace

StopSignals::StopSignals(bool enabled, WakeFd& wake) : enabled_(enabled) {
  if (!enabled_) return;
  stop_signal.store(0);
  stop_wake.store(&wake);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, &old_term_);
  ::sigaction(SIGINT, &action, &old_int_);
}

StopSignals::~StopSignals() {
  if (!enabled_) return;
  ::sigaction(SIGTERM, &old_term_, nullptr);
  ::sigaction(SIGINT, &old_int_, nullptr);
  stop_wake.store(nullptr);
}

int StopSignals::received() const noexcept {
  return enabled_ ? stop_signal.load() : 0;
}

}  // namespace cannery::detail
