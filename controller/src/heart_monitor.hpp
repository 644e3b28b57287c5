#pragma once
// The controller's side of the heart channel (docs/protocol.md, "heartbeat"): a
// ROUTER of its own on a libzmq I/O thread of its own, served by a thread of
// its own ("cannery-heart"), which answers every engine's heartbeat at once.
// The I/O thread that runs the engines' socket may be busy for seconds
// sending bulk frames; this one only notes the time and answers, so an
// engine that is alive is heard from whatever the work socket carries.
//
// The core tells it which engines it knows (admit / forget) and asks when
// each was last heard from (last_beat). Heartbeats from routing ids it was
// not told about are answered with unknown_engine and remembered nowhere.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include <zmq.hpp>

#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/detail/wake_fd.hpp"
#include "cannery/messaging/heart.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::detail {

class HeartMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  // Binds at once (errors name the address); the thread starts with start().
  // CURVE server sockets are checked by the authenticator of `context`.
  HeartMonitor(zmq::context_t& context, const IoThreads& io_threads,
               const std::string& bind_address, const std::optional<CurveKeyPair>& curve_server,
               SessionOptions session, std::chrono::milliseconds handshake_timeout);
  ~HeartMonitor();
  HeartMonitor(const HeartMonitor&) = delete;
  HeartMonitor& operator=(const HeartMonitor&) = delete;

  // As bound (a tcp port filled in); what registration_reply names.
  const std::string& endpoint() const noexcept { return endpoint_; }

  void start();
  // Ends the thread. Idempotent.
  void stop() noexcept;

  // Any thread. From admit on, the engine's heartbeats are answered and
  // timed; admit counts as hearing from it.
  void admit(const std::string& routing_id);
  void forget(const std::string& routing_id);
  // When the engine was last heard from on this channel; nullopt when it is
  // not admitted.
  std::optional<Clock::time_point> last_beat(const std::string& routing_id) const;

  std::uint64_t heartbeats() const noexcept { return heartbeats_.load(); }
  std::uint64_t unknown_heartbeats() const noexcept { return unknown_.load(); }
  std::uint64_t refused() const noexcept { return session_.refusals().total(); }

 private:
  void run() noexcept;
  void answer(Message& heartbeat);

  zmq::socket_t socket_;
  std::string endpoint_;
  Session session_;  // touched by the heart thread only, once started
  WakeFd wake_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> beats_;  // admitted engines
  std::atomic<std::uint64_t> heartbeats_{0}, unknown_{0};
};

}  // namespace cannery::detail
