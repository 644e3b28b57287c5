#include "cannery/controller/detail/completion.hpp"

#include <sched.h>

#include <algorithm>

namespace cannery::detail {

bool Completion::wait(std::chrono::milliseconds timeout) const {
  const std::chrono::microseconds window = spin_window(spin_, timeout);
  if (spin_until(settled_, window)) return true;
  std::unique_lock lock(mutex_);
  // The spin already took part of the timeout (less than a millisecond of
  // it is not subtracted).
  const auto left = timeout - std::chrono::floor<std::chrono::milliseconds>(window);
  return done_.wait_for(lock, left, [&] { return settled(); });
}

std::chrono::microseconds spin_window(std::chrono::microseconds spin,
                                      std::chrono::milliseconds timeout) noexcept {
  // Compared in milliseconds: a long timeout in microseconds could overflow.
  if (timeout >= std::chrono::ceil<std::chrono::milliseconds>(spin)) return spin;
  return std::max<std::chrono::microseconds>(timeout, std::chrono::microseconds(0));
}

bool spin_until(const std::atomic<bool>& flag, std::chrono::microseconds window) noexcept {
  if (flag.load(std::memory_order_acquire)) return true;
  if (window.count() <= 0) return false;
  const auto end = std::chrono::steady_clock::now() + window;
  do {
    // Yielding, not pausing: with more runnable threads than CPUs (engines
    // and the controller's threads on two cores), a pause loop would hold
    // the CPU that the threads making the result need. Measured: pausing
    // cost pipelined_small_tasks a fifth of its throughput, yielding nothing.
    ::sched_yield();
    if (flag.load(std::memory_order_acquire)) return true;
  } while (std::chrono::steady_clock::now() < end);
  return false;
}

}  // namespace cannery::detail
