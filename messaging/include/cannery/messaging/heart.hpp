#pragma once
// The heart channel (docs/protocol.md, "Overview" and "heartbeat"): heartbeats
// travel on sockets of their own, served by threads of their own and by a
// libzmq I/O thread that no other socket uses, so that bulk frames queued on
// the engines' socket never hold one back.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "cannery/messaging/session.hpp"

namespace cannery {

// Where a controller binds its heart socket when it is not told: the
// interface of its engines' socket with a free port ("tcp://0.0.0.0:5555" ->
// "tcp://0.0.0.0:*"), or for ipc the same path with "-heartbeat" appended.
// Throws cannery::error(invalid_argument) for other transports.
std::string default_heart_bind_address(std::string_view engines_bound);
// The same for any socket beside the engines' endpoint (the controller's
// relay socket): for ipc, the path with `ipc_suffix` appended.
std::string bind_address_beside(std::string_view engines_bound, std::string_view ipc_suffix);

// Where an engine connects its heart, given the endpoint it reached the
// controller at and the heartbeat_endpoint of the registration_reply: for tcp
// the host it reached the controller at with the heart's port (a controller
// bound to 0.0.0.0 cannot name an address the engine can use, and the engine
// already has one), for ipc the path given. Throws
// cannery::error(malformed_message) when `heart_endpoint` is neither. The
// same rule serves any socket beside the engines' endpoint: `what` names it
// in the error.
std::string heart_connect_endpoint(std::string_view engines_endpoint,
                                   std::string_view heart_endpoint,
                                   std::string_view what = "heartbeat_endpoint");

// A context whose sockets for bulk data share `data_threads` I/O threads and
// whose heart socket has one more of its own.
struct IoThreads {
  int data_threads = 1;

  zmq::context_t make_context() const;
  // Socket options; before the socket binds or connects.
  void pin_to_data(zmq::socket_ref socket) const;
  void pin_to_heart(zmq::socket_ref socket) const;
};

// A heartbeat or its answer is a few hundred bytes in at most 7 frames (a
// routing id and the envelope): a heart socket refuses much more than that,
// libzmq before buffering it (ZMQ_MAXMSGSIZE), the Session by frame count.
inline constexpr std::int64_t heart_max_frame_bytes = 64 * 1024;
inline constexpr std::size_t heart_max_frames = 16;

// What every heart socket has, before it binds or connects: the heart's I/O
// thread, no linger (a heartbeat left unsent is moot), the frame bound.
void configure_heart_socket(zmq::socket_ref socket, const IoThreads& io_threads);
// A heart socket's Session: `base` (key, log) with the frame-count bound.
SessionOptions heart_session_options(SessionOptions base);

}  // namespace cannery
