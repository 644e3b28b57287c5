#pragma once
// A controller played by the test: a ROUTER and a Session with the engine's
// key, following protocol.hpp step by step, a heart socket answered on a
// thread of its own (the test can silence it or make it answer
// unknown_engine), plus an Engine running run() on its own thread. Every wait
// is bounded.

#include <algorithm>
#include <atomic>
#include <cannery/canning.hpp>
#include <cannery/engine.hpp>
#include <cannery/messaging/frames.hpp>
#include <cannery/messaging/protocol.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "test_support.hpp"

namespace cannery::test {

using namespace std::chrono_literals;
namespace proto = cannery::protocol;

inline const std::string engine_test_key = "engine-test-key-0123456789";

inline SessionOptions keyed(std::string key = engine_test_key) {
  SessionOptions o;
  o.key = std::move(key);
  return o;
}

// How the scripted controller's heart answers heartbeats.
enum class HeartAnswer { heartbeat, unknown_engine, nothing };

class ScriptedController {
 public:
  explicit ScriptedController(std::string key = engine_test_key)
      : router(context, zmq::socket_type::router),
        heart(context, zmq::socket_type::router),
        session(keyed(key)),
        heart_session(keyed(key)) {
    router.set(zmq::sockopt::linger, 0);
    make_router_mandatory(router);
    router.bind("tcp://127.0.0.1:*");
    endpoint = router.get(zmq::sockopt::last_endpoint);
    heart.set(zmq::sockopt::linger, 0);
    heart.bind("tcp://127.0.0.1:*");
    heart_endpoint = heart.get(zmq::sockopt::last_endpoint);
    heart_thread = std::thread([this] { serve_heart(); });
  }
  ~ScriptedController() {
    heart_stop.store(true);
    heart_thread.join();
  }

  ConnectionInfo connection() const {
    ConnectionInfo info;
    info.endpoints[std::string(proto::engines_endpoint)] = endpoint;
    info.key = engine_test_key;
    return info;
  }

  // The next message of `type` within `timeout`; others are counted in
  // `skipped` (by type) and dropped.
  std::optional<Message> expect(std::string_view type, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto m = session.receive(router, left);
      if (!m) return std::nullopt;
      if (!m->identities.empty()) peer = m->identities.front();
      if (m->header.msg_type == type) return m;
      skipped.push_back(m->header.msg_type);
    }
  }

  std::size_t skipped_count(std::string_view type) const {
    return static_cast<std::size_t>(std::count(skipped.begin(), skipped.end(), type));
  }

  void send(std::string_view type, Object::Dict content = {}, std::vector<Buffer> buffers = {}) {
    Message m = session.message(type, std::move(content));
    m.identities = {peer};
    m.buffers = std::move(buffers);
    session.send(router, m);
  }

  // A registration_reply's content naming this controller's heart socket.
  Object::Dict registration_reply(std::int64_t id, std::int64_t heartbeat_ms,
                                  std::int64_t misses) const {
    return {{std::string(proto::engine_id), id},
            {std::string(proto::heartbeat_ms), heartbeat_ms},
            {std::string(proto::allowed_misses), misses},
            {std::string(proto::heartbeat_endpoint), heart_endpoint}};
  }

  // Answers the engine's registration_request.
  Message register_engine(std::int64_t id = 3, std::int64_t heartbeat_ms = 50,
                          std::int64_t misses = 200) {
    auto request = expect(proto::registration_request);
    REQUIRE(request);
    send(proto::registration_reply, registration_reply(id, heartbeat_ms, misses));
    return *request;
  }

  // Heartbeats that reached the heart socket so far.
  std::size_t heartbeats() const { return heartbeats_received.load(); }
  // Waits until `n` more heartbeats than now arrived; false after `timeout`.
  bool more_heartbeats_within(std::size_t n, std::chrono::milliseconds timeout) {
    const std::size_t target = heartbeats() + n;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (heartbeats() < target) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  // Sends a request with a fresh task id and returns the engine's reply.
  Message request(std::string_view type, Object::Dict content, std::vector<Buffer> buffers,
                  std::chrono::milliseconds timeout = 5s) {
    const std::int64_t task = next_task++;
    content[std::string(proto::task)] = task;
    Message m = session.message(type, std::move(content));
    m.identities = {peer};
    m.buffers = std::move(buffers);
    session.send(router, m);
    auto reply = expect(proto::apply_reply, timeout);
    REQUIRE(reply);
    CHECK(reply->content.at(proto::task).to_int64() == task);
    REQUIRE(reply->parent_header);
    CHECK(reply->parent_header->msg_id == m.header.msg_id);
    return *reply;
  }

  template <class... Args>
  Message apply(std::string_view function, Args&&... args) {
    return request(proto::apply_request, {},
                   pack_apply_message(function, std::forward<Args>(args)...));
  }

  zmq::context_t context;
  zmq::socket_t router;
  zmq::socket_t heart;  // the heart thread's
  Session session;
  Session heart_session;  // the heart thread's
  std::string endpoint;
  std::string heart_endpoint;
  Buffer peer;
  std::vector<std::string> skipped;
  std::int64_t next_task = 1;
  std::atomic<HeartAnswer> heart_answer{HeartAnswer::heartbeat};

 private:
  void serve_heart() {
    while (!heart_stop.load()) {
      auto beat = heart_session.receive(heart, 20ms);
      if (!beat) continue;
      heartbeats_received.fetch_add(1);
      const HeartAnswer how = heart_answer.load();
      if (how == HeartAnswer::nothing) continue;
      heart_session.send(
          heart, heart_session.message(
                     how == HeartAnswer::heartbeat ? proto::heartbeat : proto::unknown_engine,
                     Object::Dict{}, &*beat));
    }
  }

  std::atomic<bool> heart_stop{false};
  std::atomic<std::size_t> heartbeats_received{0};
  std::thread heart_thread;  // last: it uses everything above
};

// Lines an engine logged, safe to read from the test thread.
struct LogLines {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  bool contains(std::string_view text) {
    std::lock_guard lock(mutex);
    for (const auto& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

// An Engine with the built-in functions, serving on its own thread.
class RunningEngine {
 public:
  explicit RunningEngine(EngineOptions options) : engine(std::move(options)) {
    register_builtin_functions(engine.functions());
  }
  ~RunningEngine() {
    engine.stop();
    if (done.valid()) done.wait();
  }
  void start() {
    done = std::async(std::launch::async, [this] { engine.run(); });
  }
  // Whether run() returned within `timeout` (rethrowing what it threw).
  bool finished_within(std::chrono::milliseconds timeout) {
    if (done.wait_for(timeout) != std::future_status::ready) return false;
    done.get();
    return true;
  }
  // Waits up to `timeout` for the engine to take `id`.
  bool has_id_within(std::optional<int> id, std::chrono::milliseconds timeout = 2s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (engine.id() == id) return true;
      std::this_thread::sleep_for(5ms);
    }
    return engine.id() == id;
  }

  Engine engine;
  std::future<void> done;
};

inline EngineOptions options_for(const ScriptedController& controller, LogLines* log = nullptr) {
  EngineOptions o;
  o.connection = controller.connection();
  o.heartbeat = 50ms;
  // Quiet unless the test reads the lines.
  o.log_sink = log != nullptr ? log->sink() : [](std::string_view) {};
  return o;
}

template <class T>
T result_of(const Message& reply) {
  return deserialize_object<T>(reply.buffers).value;
}

}  // namespace cannery::test
