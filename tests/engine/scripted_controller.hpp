#pragma once
// A controller played by the test: a ROUTER and a Session with the engine's
// key, following docs/protocol.md step by step, a heart socket answered on a
// thread of its own (the test can silence it or make it answer
// unknown_engine), plus an Engine running run() on its own thread. Every wait
// is bounded.
//
// It speaks only through the protocol's codec: it sends the message structs
// of messages.hpp and reads what arrives with protocol::decode, so a test
// names fields as C++ members, never as strings. Tests of malformed content
// start from a valid struct's encoding and break one field (without_field,
// with_field).

#include <algorithm>
#include <atomic>
#include <cannery/canning.hpp>
#include <cannery/engine.hpp>
#include <cannery/messaging/batch.hpp>
#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/frames.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/protocol.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <span>
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

// Polls `done` every 5 ms until it holds; false when `timeout` passes first.
template <class Predicate>
bool within(std::chrono::milliseconds timeout, Predicate&& done) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A message as received, decoded: `content` as its struct, `message` for
// its buffers and parent header.
template <proto::MessageType T>
struct Received {
  T content;
  Message message;
};

// One part of a batch_reply, decoded.
struct ReplyPart {
  std::string type;  // the part's message type
  proto::ApplyReply content;
  std::vector<Buffer> buffers;
};

// The encoding of `valid` without `field`: content that does not fit T. The
// test fails when T has no such field, so that a renamed field cannot turn a
// test of malformed content into one of valid content.
template <proto::Record T>
Object::Dict without_field(const T& valid, std::string_view field) {
  Object::Dict content = proto::encode(valid);
  REQUIRE(content.erase(std::string(field)) == 1);
  return content;
}

// The encoding of `valid` with `field` replaced by `value` (of a wrong kind,
// or out of bounds); fails the test when T has no such field.
template <proto::Record T>
Object::Dict with_field(const T& valid, std::string_view field, Object value) {
  Object::Dict content = proto::encode(valid);
  auto found = content.find(field);
  REQUIRE(found != content.end());
  found->second = std::move(value);
  return content;
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
  std::optional<Message> expect_message(std::string_view type,
                                        std::chrono::milliseconds timeout = 5s) {
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

  // The next T within `timeout`, decoded: content the engine sent that does
  // not fit T fails the test (decode throws, naming the field).
  template <proto::MessageType T>
  std::optional<Received<T>> expect(std::chrono::milliseconds timeout = 5s) {
    std::optional<Message> m = expect_message(T::type, timeout);
    if (!m) return std::nullopt;
    T content = proto::decode<T>(*m);
    return Received<T>{std::move(content), std::move(*m)};
  }

  // The parts of the next batch_reply, each decoded as an apply_reply.
  std::optional<std::vector<ReplyPart>> expect_batch_reply(std::chrono::milliseconds timeout = 5s) {
    std::optional<Message> m = expect_message(proto::batch_reply, timeout);
    if (!m) return std::nullopt;
    std::vector<ReplyPart> parts;
    for (BatchPart& part : split_batch(m->content, proto::batch_replies_field, m->buffers)) {
      parts.push_back({part.type,
                       proto::decode<proto::ApplyReply>(part.content, proto::batch_reply),
                       std::vector<Buffer>(part.buffers.begin(), part.buffers.end())});
    }
    return parts;
  }

  std::size_t skipped_count(std::string_view type) const {
    return static_cast<std::size_t>(std::count(skipped.begin(), skipped.end(), type));
  }

  // Sends `message` to the engine; returns its msg_id.
  template <proto::MessageType T>
  std::string send(const T& message, std::vector<Buffer> buffers = {}) {
    return deliver(proto::make_message(session, message, nullptr, std::move(buffers)));
  }

  // Sends content of the test's own making: a batch, an unknown type, a
  // malformed message (without_field, with_field).
  std::string send_content(std::string_view type, Object::Dict content,
                           std::vector<Buffer> buffers = {}) {
    Message m = session.message(type, Object(std::move(content)));
    m.buffers = std::move(buffers);
    return deliver(std::move(m));
  }

  // A registration_reply of this controller's protocol version, naming its
  // heart socket.
  proto::RegistrationReply registration_reply(int id, std::int64_t heartbeat_ms, int misses) const {
    return {.engine_id = id,
            .heartbeat_ms = heartbeat_ms,
            .allowed_misses = misses,
            .heartbeat_endpoint = heart_endpoint,
            .protocol = proto::to_string(proto::version),
            .capabilities = {std::string(proto::capability::batches),
                             std::string(proto::capability::shared_memory)},
            .compression = std::nullopt};
  }

  // Answers the engine's registration_request; returns it.
  Received<proto::RegistrationRequest> register_engine(int id = 3, std::int64_t heartbeat_ms = 50,
                                                       int misses = 200) {
    auto request = expect<proto::RegistrationRequest>();
    REQUIRE(request);
    send(registration_reply(id, heartbeat_ms, misses));
    return std::move(*request);
  }

  // Heartbeats that reached the heart socket so far.
  std::size_t heartbeats() const { return heartbeats_received.load(); }
  // Waits until `n` more heartbeats than now arrived; false after `timeout`.
  bool more_heartbeats_within(std::size_t n, std::chrono::milliseconds timeout) {
    const std::size_t target = heartbeats() + n;
    return within(timeout, [&] { return heartbeats() >= target; });
  }

  // Sends a work request (one with a task id) under a fresh task id and
  // returns the engine's reply, checked to answer it.
  template <proto::MessageType Request>
  Received<proto::ApplyReply> request(Request work, std::vector<Buffer> buffers = {},
                                      std::chrono::milliseconds timeout = 5s) {
    work.task = next_task++;
    const std::string msg_id = send(work, std::move(buffers));
    auto reply = expect<proto::ApplyReply>(timeout);
    REQUIRE(reply);
    CHECK(reply->content.task == work.task);
    REQUIRE(reply->message.parent_header);
    CHECK(reply->message.parent_header->msg_id == msg_id);
    return std::move(*reply);
  }

  template <class... Args>
  Received<proto::ApplyReply> apply(std::string_view function, Args&&... args) {
    return request(proto::ApplyRequest{},
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
  std::uint64_t next_task = 1;
  std::atomic<HeartAnswer> heart_answer{HeartAnswer::heartbeat};

 private:
  std::string deliver(Message m) {
    m.identities = {peer};
    std::string msg_id = m.header.msg_id;
    session.send(router, std::move(m));
    return msg_id;
  }

  void serve_heart() {
    while (!heart_stop.load()) {
      auto beat = heart_session.receive(heart, 20ms);
      if (!beat) continue;
      heartbeats_received.fetch_add(1);
      const HeartAnswer how = heart_answer.load();
      if (how == HeartAnswer::heartbeat) answer(*beat, proto::Heartbeat{});
      if (how == HeartAnswer::unknown_engine) answer(*beat, proto::UnknownEngine{});
    }
  }

  template <proto::MessageType T>
  void answer(const Message& beat, const T& message) {
    heart_session.send(heart, proto::make_message(heart_session, message, &beat));
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
    return within(timeout, [&] { return engine.id() == id; });
  }
  // Waits up to `timeout` for `n` refused messages in all: for refusals no
  // reply follows, and the engine publishes its count after the messages it
  // read, so it may lag the next message it sends.
  bool refused_within(std::uint64_t n, std::chrono::milliseconds timeout = 2s) {
    return within(timeout, [&] { return engine.stats().refused_messages >= n; });
  }

  Engine engine;
  std::future<void> done;
};

// An apply_request for `task` with the fields a test leaves alone.
inline proto::ApplyRequest apply_task(std::uint64_t task) {
  return {.task = task, .shared_memory = std::nullopt, .keep_as = std::nullopt};
}

inline EngineOptions options_for(const ScriptedController& controller, LogLines* log = nullptr) {
  EngineOptions o;
  o.connection = controller.connection();
  o.heartbeat = 50ms;
  // Quiet unless the test reads the lines.
  o.log_sink = log != nullptr ? log->sink() : [](std::string_view) {};
  return o;
}

// An error reply's texts; "" for one that is missing, so that a CHECK on it
// fails instead of the test reading an empty optional.
struct Failure {
  std::string function;
  std::string ename;
  std::string evalue;
};

inline Failure failure_of(const proto::ApplyReply& reply) {
  return {reply.function.value_or(""), reply.ename.value_or(""), reply.evalue.value_or("")};
}

inline Failure failure_of(const Received<proto::ApplyReply>& reply) {
  return failure_of(reply.content);
}

template <class T>
T result_of(std::span<const Buffer> buffers) {
  return deserialize_object<T>(buffers).value;
}

template <class T>
T result_of(const Received<proto::ApplyReply>& reply) {
  return result_of<T>(reply.message.buffers);
}

}  // namespace cannery::test
