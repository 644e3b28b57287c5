#pragma once
// Stopping on SIGTERM / SIGINT: handlers that only set a flag and wake the
// I/O loop's poll, which then reads it. A second signal ends the process at
// once (_exit), for a task that never returns.

#include <atomic>
#include <csignal>

#include "cannery/messaging/detail/wake_fd.hpp"

namespace cannery::detail {

class StopSignals {
 public:
  // Installs the handlers when `enabled`, which notify `wake`; the
  // destructor restores the old ones.
  StopSignals(bool enabled, WakeFd& wake);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop, or 0.
  int received() const noexcept;

 private:
  bool enabled_;
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
};

}  // namespace cannery::detail
