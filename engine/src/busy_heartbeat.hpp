#pragma once
// Requests run on run()'s thread, right where they are received: handing each
// one to a worker thread and its reply back cost two thread wake-ups per task,
// about a fifth of a round trip. While a request runs, nobody polls the
// socket, so this thread sends the heartbeats instead, and a long task is not
// mistaken for a dead engine.
//
// The socket is shared through a mutex: run()'s thread holds it at all times
// except inside `run_unlocked`. This thread is never told about
// each request (that would cost the wake-up saved); it looks every quarter
// period, and beats only when run()'s thread has been inside one request for
// half a period or more.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace cannery::detail {

class BusyHeartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  // Call on run()'s thread: it takes the socket mutex. `beat` sends one
  // heartbeat; it is called on this object's thread with the mutex held.
  BusyHeartbeat(std::chrono::milliseconds period, std::function<void()> beat);
  ~BusyHeartbeat();
  BusyHeartbeat(const BusyHeartbeat&) = delete;
  BusyHeartbeat& operator=(const BusyHeartbeat&) = delete;

  // The controller's period, once registered.
  void set_period(std::chrono::milliseconds period) noexcept { period_ms_.store(period.count()); }

  // Runs `work` with the socket released to the heartbeat thread.
  template <class Work>
  decltype(auto) run_unlocked(Work&& work) {
    Released released(*this);
    return std::forward<Work>(work)();
  }

 private:
  struct Released {
    explicit Released(BusyHeartbeat& h) : heart(h) {
      heart.busy_since_.store(Clock::now().time_since_epoch().count());
      heart.socket_lock_.unlock();
    }
    ~Released() {
      heart.socket_lock_.lock();
      heart.busy_since_.store(0);
    }
    BusyHeartbeat& heart;
  };

  void main();

  std::function<void()> beat_;
  std::atomic<std::chrono::milliseconds::rep> period_ms_;
  std::atomic<Clock::rep> busy_since_{0};  // 0: not inside a request
  std::mutex socket_mutex_;
  std::unique_lock<std::mutex> socket_lock_;  // run()'s thread's hold on it
  std::mutex state_mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cannery::detail
