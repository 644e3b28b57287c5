#pragma once
// The engine the controller tests run: the real request handler and function
// registry (register_builtin_functions) on a thread of this process, speaking
// through the protocol's codec, so it cannot drift from cannery-engine. Its
// only additions are faults a test injects and counters a test reads:
//
//   functions   the built-in ones, and whoami() -> its uuid;
//               which_engine(double) -> its uuid, for maps; hold() -> its uuid, replied only when
//               the test calls release_held(); hold_sum(values) -> their sum, held
//               the same way; reply_after_ms(ms) -> ms,
//               replied after ms without blocking the engine (in a map, after
//               the chunk's largest ms)
//   faults      silent (no heartbeats, no replies, as unplugged), duplicate
//               replies, dropped replies, garbled replies (the task field
//               removed), die() (gone at once, sockets closed), and
//               registering again, as the same or as another process
//   counters    messages received by type (a batch's parts counted as if
//               they came alone, the batch too), put bytes, released refs, map
//               chunk sizes, the arrival order

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <cannery/controller.hpp>
#include <cannery/engine/detail/request_handler.hpp>
#include <cannery/engine/functions.hpp>
#include <cannery/messaging/curve.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/protocol.hpp>
#include <cannery/messaging/refusals.hpp>
#include <cannery/messaging/session.hpp>
#include <zmq.hpp>

namespace cannery::test {

using namespace std::chrono_literals;

// Polls `pred` until it holds or `timeout` passes.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct InProcessEngineOptions {
  std::string uuid;  // random when empty
  int pid = 0;       // a made-up pid when 0
  std::string hostname = "in-process-host";
  std::string protocol = protocol::to_string(protocol::version);
  std::vector<std::string> capabilities{std::string(protocol::capability::batches)};
  bool duplicate_replies = false;  // send every reply twice
  std::optional<CurveKeyPair> curve_client;
};

class InProcessEngine {
 public:
  explicit InProcessEngine(const ConnectionInfo& info, InProcessEngineOptions options = {});
  ~InProcessEngine();
  InProcessEngine(const InProcessEngine&) = delete;
  InProcessEngine& operator=(const InProcessEngine&) = delete;

  // Waits for the registration_reply; returns the engine id (-1 on timeout).
  int wait_registered(std::chrono::milliseconds timeout = 5000ms);
  int engine_id() const { return engine_id_.load(); }
  const std::string& uuid() const { return options_.uuid; }
  int pid() const { return options_.pid; }

  // Faults.
  void set_silent(bool silent) { silent_.store(silent); }
  void drop_replies(bool drop) { drop_.store(drop); }
  void garble_replies(bool garble) { garble_.store(garble); }
  // Gone at once: the thread ends and its sockets close unsent.
  void die();
  // Registers again (same uuid), with `pid` when not 0.
  void register_again(int pid = 0) { reregister_pid_.store(pid); }
  void release_held() { release_.store(true); }

  // Counters.
  std::size_t held() const;
  std::size_t max_held() const;
  std::size_t count(std::string_view msg_type) const;
  std::uint64_t put_bytes() const;
  std::vector<std::uint64_t> released_refs() const;
  std::vector<std::uint64_t> map_counts() const;
  // Message types in arrival order (heartbeats left out).
  std::vector<std::string> log() const;

 private:
  struct Pending {
    std::chrono::steady_clock::time_point when;
    Message reply;
  };

  void run();
  void register_functions();
  void send_registration(zmq::socket_t& socket);
  void handle(zmq::socket_t& socket, Message& message);
  void on_work(zmq::socket_t& socket, Message& message);
  void observe(std::string_view type, const Object& content, std::span<const Buffer> buffers);
  // Sends (or holds, delays, drops, garbles, doubles) the reply to `request`.
  void answer(zmq::socket_t& socket, const Message& request, std::string_view type,
              Object::Dict content, std::vector<Buffer> buffers);
  void send_due(zmq::socket_t& socket);
  std::optional<zmq::socket_t> connect_heart(zmq::context_t& context);

  ConnectionInfo info_;
  InProcessEngineOptions options_;
  Session session_;
  RefusalLog refusals_;
  FunctionRegistry functions_;
  std::optional<detail::RequestHandler> handler_;
  std::atomic<int> engine_id_{-1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<bool> drop_{false};
  std::atomic<bool> garble_{false};
  std::atomic<bool> release_{false};
  std::atomic<int> reregister_pid_{-1};

  // Engine-thread state.
  std::chrono::milliseconds heartbeat_{100};
  std::string heart_endpoint_;  // from the latest registration_reply
  bool heart_changed_ = false;  // connect_heart() is due
  // Set by reply_after_ms and hold while the handler runs a request.
  std::chrono::milliseconds reply_delay_{0};
  bool hold_reply_ = false;
  std::deque<Pending> delayed_;
  std::vector<Message> held_;

  mutable std::mutex mutex_;
  std::map<std::string, std::size_t, std::less<>> counts_;
  std::vector<std::string> log_;
  std::uint64_t put_bytes_ = 0;
  std::vector<std::uint64_t> released_refs_;
  std::vector<std::uint64_t> map_counts_;
  std::size_t held_count_ = 0;
  std::size_t max_held_ = 0;

  std::thread thread_;
};

}  // namespace cannery::test
