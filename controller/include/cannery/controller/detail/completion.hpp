#pragma once
// The end of a task, or of a whole map, as the threads waiting for it see it.
//
// A waiter spins briefly before it sleeps. Waking a sleeping thread costs
// tens of microseconds (more on a virtual machine, whose idle vCPU halts):
// as much as a whole local round trip. A waiter still spinning when the
// reply lands sees it at once. The spin yields the CPU to any thread that
// can run, so a busy machine loses little to it. See
// ControllerOptions::wait_spin.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace cannery::detail {

class Completion {
 public:
  explicit Completion(std::chrono::microseconds spin) noexcept : spin_(spin) {}

  // Guards the owner's results too.
  std::mutex& mutex() const noexcept { return mutex_; }
  // Runs `change` (the owner storing a result) with the mutex held. When it
  // returns true the owner has ended: settled, and the waiters woken once
  // the mutex is released.
  template <class Change>
  void update(Change&& change) noexcept {
    bool ended = false;
    {
      std::lock_guard lock(mutex_);
      ended = change();
      if (ended) settle();
    }
    if (ended) done_.notify_all();
  }
  // Ended before anyone can wait (a map of nothing).
  void settle() noexcept { settled_.store(true, std::memory_order_release); }

  bool settled() const noexcept { return settled_.load(std::memory_order_acquire); }
  // Spins for up to the spin window (never past `timeout`), then sleeps.
  // True once settled; false when `timeout` passes first.
  bool wait(std::chrono::milliseconds timeout) const;

 private:
  std::chrono::microseconds spin_;
  mutable std::mutex mutex_;
  mutable std::condition_variable done_;
  std::atomic<bool> settled_{false};
};

// How long a wait of `timeout` spins: `spin`, but never longer than the
// timeout, whatever its length.
std::chrono::microseconds spin_window(std::chrono::microseconds spin,
                                      std::chrono::milliseconds timeout) noexcept;

// Spins, yielding, while `flag` is false and `window` has not passed; true
// once `flag` is seen true.
bool spin_until(const std::atomic<bool>& flag, std::chrono::microseconds window) noexcept;

}  // namespace cannery::detail
