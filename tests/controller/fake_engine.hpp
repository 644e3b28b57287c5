#pragma once
// A scripted engine for controller tests: a DEALER + cannery::Session that
// follows messaging/protocol.hpp (register, heartbeat on the heart socket,
// answer requests), on its own thread, so controller tests do not depend on
// the real engine.
//
// Functions it knows (apply): echo(x), add(a, b), whoami() -> uuid, fail()
// (raises std::runtime_error "boom"), sleep_ms(ms) (replies after ms, without
// blocking the rest), hold() (replies when the test calls release_held()),
// nbytes(x) (bytes of an array or bytes value), square(x).
// map: square, whoami, add, echo and sleep_echo (each element's value in ms
// is the chunk's delay; replies the values).

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
#include <cannery/messaging/curve.hpp>
#include <cannery/messaging/protocol.hpp>
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

struct FakeEngineOptions {
  std::string uuid;  // random when empty
  int pid = 0;       // a made-up pid when 0
  std::string hostname = "fake-host";
  std::vector<std::string> functions{"echo",     "add",  "whoami", "fail",
                                     "sleep_ms", "hold", "nbytes", "square"};
  bool duplicate_replies = false;  // send every reply twice
  std::optional<CurveKeyPair> curve_client;
};

class FakeEngine {
 public:
  explicit FakeEngine(const ConnectionInfo& info, FakeEngineOptions options = {});
  ~FakeEngine();
  FakeEngine(const FakeEngine&) = delete;
  FakeEngine& operator=(const FakeEngine&) = delete;

  // Waits for the registration_reply; returns the engine id (-1 on timeout).
  int wait_registered(std::chrono::milliseconds timeout = 5000ms);
  int engine_id() const { return engine_id_.load(); }
  const std::string& uuid() const { return options_.uuid; }
  int pid() const { return options_.pid; }

  // Silent: no heartbeats and no replies (as an unplugged engine);
  // messages are still received and counted.
  void set_silent(bool silent) { silent_.store(silent); }
  // Registers again (same uuid), with `pid` when not 0.
  void register_again(int pid = 0);
  // Replies to every held() task.
  void release_held() { release_.store(true); }
  std::size_t held() const;
  std::size_t max_held() const;

  std::size_t count(std::string_view msg_type) const;
  std::uint64_t put_bytes() const;
  std::vector<std::uint64_t> released_refs() const;
  std::vector<std::int64_t> map_counts() const;
  // Message types in arrival order (heartbeats left out).
  std::vector<std::string> log() const;

 private:
  struct Pending {
    std::chrono::steady_clock::time_point when;
    Message reply;
  };

  void run();
  void send_registration(zmq::socket_t& socket);
  void handle(zmq::socket_t& socket, Message& message);
  Object call(const std::string& function, std::vector<Object> args,
              std::optional<std::chrono::milliseconds>& delay, bool& hold);
  std::vector<Object> read_args(std::span<const Buffer> buffers, std::string& function);
  Message reply_ok(const Message& request, const Object& value);
  Message reply_error(const Message& request, const std::string& function, const std::string& ename,
                      const std::string& evalue);
  void send(zmq::socket_t& socket, const Message& m);
  // The heart socket for the latest registration_reply's heartbeat_endpoint.
  std::optional<zmq::socket_t> connect_heart(zmq::context_t& context);

  ConnectionInfo info_;
  FakeEngineOptions options_;
  Session session_;
  std::atomic<int> engine_id_{-1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<bool> release_{false};
  std::atomic<int> reregister_pid_{-1};
  std::chrono::milliseconds heartbeat_{100};
  std::string heart_endpoint_;  // from the latest registration_reply
  bool heart_changed_ = false;  // connect_heart() is due

  mutable std::mutex mutex_;
  std::map<std::string, std::size_t, std::less<>> counts_;
  std::vector<std::string> log_;
  std::uint64_t put_bytes_ = 0;
  std::vector<std::uint64_t> released_refs_;
  std::vector<std::int64_t> map_counts_;
  std::size_t held_count_ = 0;
  std::size_t max_held_ = 0;

  // Engine-thread state.
  std::map<std::uint64_t, std::vector<Buffer>> cache_;
  std::map<std::string, Object> namespace_;
  std::deque<Pending> delayed_;
  std::vector<Message> held_;

  std::thread thread_;
};

}  // namespace cannery::test
