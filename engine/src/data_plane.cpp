#include "data_plane.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/canning/serialize.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/heart.hpp"

namespace cannery::detail {

namespace proto = cannery::protocol;
using namespace std::chrono_literals;

namespace {

// The address of this host that packets to host:port leave from, as the
// kernel's routing table says: a UDP socket connected there (connect sends
// nothing) reports it. Empty when the host does not resolve.
std::string local_address_towards(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) return {};
  std::string address;
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    char text[INET_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 &&
        ::inet_ntop(AF_INET, &local.sin_addr, text, sizeof text) != nullptr) {
      address = text;
    }
  }
  if (fd >= 0) ::close(fd);
  ::freeaddrinfo(found);
  return address;
}

// Whether an engine can bind an ipc socket at `endpoint` (ipc://PATH): the
// path fits in a socket address and, unless it is in Linux's abstract
// namespace, its directory is writable here.
bool can_bind_ipc(std::string_view endpoint) {
  const std::filesystem::path path(endpoint.substr(std::string_view("ipc://").size()));
  if (path.native().size() >= sizeof(sockaddr_un::sun_path)) return false;
  if (path.native().starts_with('@')) return true;
  const std::filesystem::path directory = path.parent_path();
  return !directory.empty() && ::access(directory.c_str(), W_OK | X_OK) == 0;
}

}  // namespace

std::string data_bind_endpoint(const std::string& controller_endpoint, const std::string& uuid) {
  if (controller_endpoint.starts_with("ipc://")) {
    // Beside the controller's socket, as its heart and relay sockets are: in
    // the directory its owner removes, and with it the socket of an engine
    // killed before it could, or in the abstract namespace (no file at all).
    std::string beside = bind_address_beside(controller_endpoint, "-data-" + uuid);
    if (can_bind_ipc(beside)) return beside;
    return "ipc://" + (std::filesystem::temp_directory_path() / ("cannery-data-" + uuid)).string();
  }
  // tcp://HOST:PORT
  const std::string rest = controller_endpoint.substr(controller_endpoint.find("://") + 3);
  const std::size_t colon = rest.rfind(':');
  std::string host = rest.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string port = colon == std::string::npos ? "0" : rest.substr(colon + 1);
  const std::string address = local_address_towards(host, port);
  if (address.empty()) {
    throw error(errc::io_error,
                "cannot tell which address of this host reaches the controller at '" +
                    controller_endpoint +
                    "', for the data socket: check that its host name resolves");
  }
  return "tcp://" + address + ":*";
}

void secure_data_client(zmq::socket_ref socket, const std::optional<DataCurve>& curve,
                        const std::optional<std::string>& server_key, const std::string& whom) {
  if (!curve) return;
  if (!server_key) {
    throw error(errc::object_lost,
                "the cluster uses CURVE, but the controller named no CURVE "
                "key for " +
                    whom);
  }
  make_curve_client(socket, curve->keys, *server_key);
}

std::vector<Buffer> fetch_object(zmq::context_t& context, Session& session,
                                 const proto::FetchRequest& request,
                                 std::chrono::milliseconds timeout, const Limits& limits,
                                 std::int64_t max_frame_bytes,
                                 const std::optional<DataCurve>& curve) {
  const std::string from = "engine " + std::to_string(request.from_engine) + " at " +
                           request.endpoint + ", which held ref " + std::to_string(request.ref);
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  if (max_frame_bytes > 0) limit_frame_size(dealer, max_frame_bytes);
  secure_data_client(dealer, curve, request.curve_key, from);
  try {
    dealer.connect(request.endpoint);
  } catch (const zmq::error_t& e) {
    throw error(errc::object_lost, "could not connect to " + from + ": " + e.what());
  }
  session.send(dealer, proto::make_message(session, proto::ObjectRequest{request.ref}));
  std::optional<Message> reply = session.receive(dealer, timeout);
  if (!reply) {
    throw error(errc::object_lost,
                "no answer within " + std::to_string(timeout.count()) + " ms from " + from);
  }
  const auto answer = proto::decode<proto::ObjectReply>(*reply);
  if (answer.ref != request.ref || !answer.found) {
    throw error(errc::object_lost, from + ", answered that it does not hold it (any more)");
  }
  PeekedObject peeked = peek_object(reply->buffers, limits);
  if (!peeked.remaining.empty()) {
    throw error(errc::object_lost, from + ", sent more than one object for it");
  }
  return std::move(reply->buffers);
}

}  // namespace cannery::detail
