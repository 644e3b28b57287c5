#pragma once
// A Controller plus in-process engines registered with it, for controller tests.

#include <memory>
#include <vector>

#include <cannery/messaging/dispatch.hpp>

#include "in_process_engine.hpp"

namespace cannery::test {

// Fast liveness so failure tests take a fraction of a second: half a second
// of silence, which a in-process engine sharing a loaded machine (a sanitizer
// build, other builds running) still never reaches while it is alive.
inline ControllerOptions fast_options() {
  ControllerOptions o;
  o.heartbeat = 50ms;
  o.allowed_misses = 10;
  o.log_sink = [](std::string_view) {};  // deaths and refusals are what these tests cause
  return o;
}

// A bare DEALER and Session talking to a controller's socket by hand, as an
// engine of another program (or an intruder) would. An empty key: the
// controller's; a routing id, when given, is set before connecting.
struct RawPeer {
  RawPeer(const Controller& controller, const std::string& endpoint,
          const std::string& routing_id = {}, const std::string& key = {})
      : dealer(context, zmq::socket_type::dealer), session(session_options(controller, key)) {
    dealer.set(zmq::sockopt::linger, 0);
    if (!routing_id.empty()) dealer.set(zmq::sockopt::routing_id, routing_id);
    dealer.connect(endpoint);
  }
  static SessionOptions session_options(const Controller& controller, const std::string& key) {
    SessionOptions so;
    so.key = key.empty() ? controller.connection_info().key : key;
    so.log_sink = [](std::string_view) {};  // refusals of a wrong key are what such tests cause
    return so;
  }
  void send(std::string_view type, Object::Dict content = {}) {
    session.send(dealer, session.message(type, Object(std::move(content))));
  }
  template <protocol::MessageType T>
  void send(const T& message) {
    session.send(dealer, protocol::make_message(session, message));
  }

  zmq::context_t context{1};
  zmq::socket_t dealer;
  Session session;
};

// A valid registration_request of this build's protocol version.
inline protocol::RegistrationRequest registration(std::string uuid, int pid = 1,
                                                  std::uint64_t attempt = 0) {
  protocol::RegistrationRequest r;
  r.uuid = std::move(uuid);
  r.pid = pid;
  r.protocol = protocol::to_string(protocol::version);
  r.registrations = attempt;
  return r;
}

struct Cluster {
  explicit Cluster(std::size_t n, ControllerOptions options = fast_options(),
                   InProcessEngineOptions engine_options = {})
      : controller(std::move(options)) {
    for (std::size_t i = 0; i < n; ++i)
      add(engine_options);
    controller.wait_for_engines(n, 5000ms);
  }

  InProcessEngine& add(InProcessEngineOptions options = {}) {
    engines.push_back(std::make_unique<InProcessEngine>(controller.connection_info(), options));
    engines.back()->wait_registered();
    return *engines.back();
  }

  InProcessEngine& operator[](std::size_t i) { return *engines.at(i); }

  Controller controller;  // declared first: outlives the engines
  std::vector<std::unique_ptr<InProcessEngine>> engines;
};

}  // namespace cannery::test
