#include "busy_heartbeat.hpp"

namespace cannery::detail {

BusyHeartbeat::BusyHeartbeat(std::chrono::milliseconds period, std::function<void()> beat)
    : beat_(std::move(beat)),
      period_ms_(period.count()),
      socket_lock_(socket_mutex_),
      thread_([this] { main(); }) {}

BusyHeartbeat::~BusyHeartbeat() {
  {
    std::lock_guard lock(state_mutex_);
    stopping_ = true;
  }
  stop_.notify_one();
  thread_.join();
}

void BusyHeartbeat::main() {
  Clock::time_point last_beat{};
  std::unique_lock state(state_mutex_);
  while (!stopping_) {
    const std::chrono::milliseconds period(period_ms_.load());
    stop_.wait_for(state, period / 4);
    if (stopping_) return;
    const Clock::rep since = busy_since_.load();
    if (since == 0) continue;
    const Clock::time_point now = Clock::now();
    const Clock::time_point busy_from{Clock::duration(since)};
    if (now - std::max(busy_from, last_beat) < period / 2) continue;
    // Failing to take the socket means run()'s thread is back and beats itself.
    std::unique_lock socket(socket_mutex_, std::try_to_lock);
    if (!socket.owns_lock()) continue;
    try {
      beat_();
    } catch (...) {
      // Out of memory: the next look tries again.
    }
    last_beat = now;
  }
}

}  // namespace cannery::detail
