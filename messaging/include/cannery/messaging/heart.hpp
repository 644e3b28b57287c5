#pragma once
// The heart channel (protocol.hpp, "Registration and liveness"): heartbeats
// travel on sockets of their own, served by threads of their own and by a
// libzmq I/O thread that no other socket uses, so that bulk frames queued on
// the engines' socket never hold one back.

#include <string>
#include <string_view>

#include <zmq.hpp>

namespace cannery {

// Where a controller binds its heart socket when it is not told: the
// interface of its engines' socket with a free port ("tcp://0.0.0.0:5555" ->
// "tcp://0.0.0.0:*"), or for ipc the same path with "-heartbeat" appended.
// Throws cannery::error(invalid_argument) for other transports.
std::string default_heart_bind_address(std::string_view engines_bound);

// Where an engine connects its heart, given the endpoint it reached the
// controller at and the heartbeat_endpoint of the registration_reply: for tcp
// the host it reached the controller at with the heart's port (a controller
// bound to 0.0.0.0 cannot name an address the engine can use, and the engine
// already has one), for ipc the path given. Throws
// cannery::error(malformed_message) when `heart_endpoint` is neither.
std::string heart_connect_endpoint(std::string_view engines_endpoint,
                                   std::string_view heart_endpoint);

// A context whose sockets for bulk data share `data_threads` I/O threads and
// whose heart socket has one more of its own.
struct IoThreads {
  int data_threads = 1;

  zmq::context_t make_context() const;
  // Socket options; before the socket binds or connects.
  void pin_to_data(zmq::socket_ref socket) const;
  void pin_to_heart(zmq::socket_ref socket) const;
};

}  // namespace cannery
