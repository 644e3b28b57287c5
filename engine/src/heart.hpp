#pragma once
// The engine's side of the heart channel (docs/protocol.md, "heartbeat"): a DEALER
// of its own, on a libzmq I/O thread of its own, served by a thread of its
// own ("cannery-heart") that sends a heartbeat every period and notes the
// answers. run()'s thread may be inside a long task or reading a large
// request meanwhile; the controller still hears from this engine, and this
// engine still hears from the controller.
//
// run()'s thread decides what silence means: it reads last_answer() and
// take_unknown() between messages. Each beat() opens a fresh connection, so
// an answer to a heartbeat of an earlier registration is never read as
// news about this one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/detail/wake_fd.hpp"
#include "cannery/messaging/heart.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::detail {

class Heart {
 public:
  using Clock = std::chrono::steady_clock;

  struct Setup {
    IoThreads io_threads;
    SessionOptions session;
    std::string routing_id;
    std::optional<CurveKeyPair> curve_keys;  // with the server's public key below
    std::string curve_server_public_key;
    // Where the counts of heartbeats sent and answered go; outlive the Heart.
    std::atomic<std::uint64_t>* sent = nullptr;
    std::atomic<std::uint64_t>* answered = nullptr;
    // Notified when take_unknown() has news, so that run()'s thread need
    // not look for it on a timer; outlives the Heart.
    WakeFd* news = nullptr;
  };

  Heart(zmq::context_t& context, Setup setup);
  // Stops the thread and closes the socket.
  ~Heart();
  Heart(const Heart&) = delete;
  Heart& operator=(const Heart&) = delete;

  // From now on, a heartbeat to `endpoint` every `period`, on a new
  // connection; the answers' clock starts now.
  void beat(const std::string& endpoint, std::chrono::milliseconds period);
  // No more heartbeats; the connection is closed.
  void pause();

  // When the controller last answered (or beat() was called).
  Clock::time_point last_answer() const noexcept;
  // Whether the controller answered unknown_engine since the last call.
  bool take_unknown() noexcept { return unknown_.exchange(false); }
  // Messages on the heart socket that were refused.
  std::uint64_t refused() const noexcept { return session_.refusals().total(); }

 private:
  struct Target {
    std::string endpoint;  // empty: paused
    std::chrono::milliseconds period{500};
    std::uint64_t generation = 0;
  };

  void run() noexcept;
  // The heart thread's socket for `target`; null while paused.
  std::optional<zmq::socket_t> open(const Target& target);
  void read_answers(zmq::socket_t& socket, std::uint64_t generation);

  zmq::context_t& context_;
  Setup setup_;
  Session session_;  // the heart thread's only
  WakeFd wake_;
  std::atomic<bool> stopping_{false};
  std::atomic<Clock::rep> last_answer_;
  std::atomic<bool> unknown_{false};

  std::mutex mutex_;
  Target target_;  // under mutex_

  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace cannery::detail
