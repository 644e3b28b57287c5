#pragma once
// Shared by the data-plane tests: an engine's counters, waiting for the
// controller to see an engine's death, and asking a data socket for an
// object as another engine would.

#include <cannery/controller.hpp>
#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/session.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

namespace cannery::test {

using EngineCounters = std::map<std::string, std::uint64_t>;

inline EngineCounters engine_counters(Controller& controller, int engine) {
  return controller.apply(engine, "cannery.engine_stats")
      .get<EngineCounters>(std::chrono::seconds(30));
}

inline int pid_of(const Controller& controller, int engine) {
  for (const EngineInfo& e : controller.engines())
    if (e.id == engine) return e.pid;
  return -1;
}

// Whether the controller declared `engine` dead within `timeout`.
inline bool declared_dead_within(const Controller& controller, int engine,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const EngineInfo& e : controller.engines())
      if (e.id == engine && !e.alive) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// A session signing with `key`, quiet about what it refuses.
inline Session session_with_key(const std::string& key) {
  SessionOptions o;
  o.key = key;
  o.log_sink = [](std::string_view) {};
  return Session(o);
}

// Asks the data socket at `endpoint` for `ref` in a message signed with
// `key`: its reply, or nullopt when none came within 10 s.
inline std::optional<Message> ask_for_object(const std::string& endpoint, const std::string& key,
                                             std::uint64_t ref) {
  zmq::context_t context;
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  Session session = session_with_key(key);
  session.send(dealer, protocol::make_message(session, protocol::ObjectRequest{ref}));
  return session.receive(dealer, std::chrono::seconds(10));
}

}  // namespace cannery::test
