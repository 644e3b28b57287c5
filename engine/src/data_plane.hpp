#pragma once
// The engine's data plane (docs/protocol.md, "fetch_request", "object_request"):
// where its data socket (an ObjectServer, object_server.hpp, on a thread of
// its own, "cannery-data") binds, from which other engines fetch the objects
// this engine caches (kept results) or is receiving (relayed puts), so that
// they move engine to engine and never through the controller; and the fetch
// of a kept result, run on the work loop's thread when a fetch_request comes
// (relay_fetch.hpp fetches relayed puts).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "cannery/canning/options.hpp"
#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::detail {

// Bytes and objects that crossed the data plane, for EngineStats.
struct DataPlaneCounters {
  std::atomic<std::uint64_t> objects_served{0};
  std::atomic<std::uint64_t> bytes_served{0};
  std::atomic<std::uint64_t> objects_fetched{0};
  std::atomic<std::uint64_t> bytes_fetched{0};
};

// Where an engine that reached its controller at `controller_endpoint`
// binds its data socket: tcp on the address of this host that the route to
// the controller leaves from (port chosen by the system), or, when the
// controller is reached over ipc, ipc beside the controller's socket (its
// path + "-data-<uuid>", bind_address_beside), else, when that directory is
// not writable or the path too long, among the system's temporary files.
std::string data_bind_endpoint(const std::string& controller_endpoint, const std::string& uuid);

// How this engine meets data sockets when the cluster uses CURVE: its data
// socket is a CURVE server with the engine's own key pair (open to any
// client that knows its public key: every request is signed besides), and
// it connects to other engines' data sockets, and to the controller's relay
// socket, as a CURVE client.
struct DataCurve {
  CurveKeyPair keys;           // this engine's
  std::string controller_key;  // the controller's public key (connection file)
};

// Makes `socket` a CURVE client of the data socket `whom` names, whose
// public key is `server_key`, when `curve` is set. Throws
// cannery::error(object_lost) when CURVE is on and no key was given.
void secure_data_client(zmq::socket_ref socket, const std::optional<DataCurve>& curve,
                        const std::optional<std::string>& server_key, const std::string& whom);

// Fetches the object of `request` from the engine at request.endpoint with
// `session` (the caller's thread's), within `timeout`: its frames, checked to
// hold one well-formed object. Throws cannery::error(object_lost) saying why
// when it cannot.
std::vector<Buffer> fetch_object(zmq::context_t& context, Session& session,
                                 const protocol::FetchRequest& request,
                                 std::chrono::milliseconds timeout, const Limits& limits,
                                 std::int64_t max_frame_bytes,
                                 const std::optional<DataCurve>& curve);

}  // namespace cannery::detail
