#include "cannery/messaging/heart.hpp"

#include <cstdint>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/frames.hpp"

namespace cannery {
namespace {

constexpr std::string_view tcp = "tcp://";
constexpr std::string_view ipc = "ipc://";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "tcp://host:port" -> "tcp://host" (the host may be "[::1]").
std::string_view without_port(std::string_view endpoint) {
  const auto colon = endpoint.rfind(':');
  return colon == std::string_view::npos || colon < tcp.size() ? endpoint
                                                               : endpoint.substr(0, colon);
}

}  // namespace

std::string default_heart_bind_address(std::string_view engines_bound) {
  return bind_address_beside(engines_bound, "-heartbeat");
}

std::string bind_address_beside(std::string_view engines_bound, std::string_view ipc_suffix) {
  if (starts_with(engines_bound, tcp)) return std::string(without_port(engines_bound)) + ":*";
  if (starts_with(engines_bound, ipc)) return std::string(engines_bound) + std::string(ipc_suffix);
  throw error(errc::invalid_argument,
              "no socket can be placed beside the engines' endpoint '" +
                  std::string(engines_bound) +
                  "' (only tcp:// and ipc:// are supported); set "
                  "ControllerOptions::heartbeat_endpoint, or ControllerOptions::relay = false");
}

std::string heart_connect_endpoint(std::string_view engines_endpoint,
                                   std::string_view heart_endpoint, std::string_view what) {
  if (starts_with(heart_endpoint, ipc) && heart_endpoint.size() > ipc.size()) {
    return std::string(heart_endpoint);
  }
  if (starts_with(heart_endpoint, tcp) && starts_with(engines_endpoint, tcp)) {
    const auto colon = heart_endpoint.rfind(':');
    const std::string_view port = heart_endpoint.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        port.find_first_not_of("0123456789") == std::string_view::npos;
    if (colon > tcp.size() && digits) {
      return std::string(without_port(engines_endpoint)) + ":" + std::string(port);
    }
  }
  throw error(errc::malformed_message,
              std::string(what) + " '" + std::string(heart_endpoint.substr(0, 200)) +
                  "' is neither ipc://PATH nor tcp://HOST:PORT for an engine that reached the "
                  "controller at '" +
                  std::string(engines_endpoint) + "'");
}

zmq::context_t IoThreads::make_context() const {
  return zmq::context_t(data_threads + 1);
}

void IoThreads::pin_to_data(zmq::socket_ref socket) const {
  socket.set(zmq::sockopt::affinity, (std::uint64_t{1} << data_threads) - 1);
}

void IoThreads::pin_to_heart(zmq::socket_ref socket) const {
  socket.set(zmq::sockopt::affinity, std::uint64_t{1} << data_threads);
}

void configure_heart_socket(zmq::socket_ref socket, const IoThreads& io_threads) {
  io_threads.pin_to_heart(socket);
  socket.set(zmq::sockopt::linger, 0);
  limit_frame_size(socket, heart_max_frame_bytes);
}

SessionOptions heart_session_options(SessionOptions base) {
  base.frames.max_frames = heart_max_frames;
  return base;
}

}  // namespace cannery
