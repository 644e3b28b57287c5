#pragma once
// Stopping on SIGTERM / SIGINT: handlers that only set a flag, which the I/O
// loop reads at each poll (at most 100 ms apart). A second signal ends the
// process at once (_exit), for a task that never returns.

#include <atomic>
#include <csignal>

namespace cannery::detail {

class StopSignals {
 public:
  // Installs the handlers when `enabled`; the destructor restores the old ones.
  explicit StopSignals(bool enabled);
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
