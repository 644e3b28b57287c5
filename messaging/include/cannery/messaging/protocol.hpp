#pragma once
// The controller <-> engine protocol. Engines and the controller never
// include each other; everything they share is here. Every message is a
// Session message (signed Jupyter envelope, session.hpp); canned values ride
// in its buffers.
//
// Connections: two per engine. The controller binds a ROUTER for work (with
// ROUTER_MANDATORY) and a second ROUTER, the heart socket, for heartbeats;
// each engine connects a DEALER to each, both with the routing id
// "engine-<uuid>" (set before connecting). The key and the work endpoint come
// from the connection file, the heart endpoint from the registration_reply.
// Heartbeats never share a connection, a queue or a thread with work: a
// 400 MB request queued for an engine does not delay its heartbeats
// (heart.hpp).
//
// Registration (on the work socket)
//   engine -> controller  registration_request  {uuid: str, pid: int, hostname: str,
//                                                functions: [str, ...], batches: bool,
//                                                registrations: int,
//                                                shared_memory: {segment: str, token: str}}
//     registrations is how many registration_replies this engine process
//     accepted before: the requests it repeats every heartbeat_ms until
//     answered carry the same number, so a burst of them (queued behind a
//     network partition, say) counts as one attempt; each is answered, and
//     the engine takes the first answer. shared_memory (optional) describes a
//     SharedMemoryProbe: the controller sends put() objects through shared
//     memory only to engines whose probe it can open and read
//     (shared_memory.hpp).
//   controller -> engine  registration_reply    {engine_id: int, heartbeat_ms: int,
//                                                allowed_misses: int,
//                                                heartbeat_endpoint: str}
//     heartbeat_endpoint is the heart socket as bound; the engine connects to
//     heart_connect_endpoint(its work endpoint, heartbeat_endpoint). The
//     controller knows the engine on its heart socket before it sends this
//     reply.
//   controller -> engine  unknown_engine        {}
//     The answer to any message from a routing id the controller does not
//     know (it restarted, or declared the engine dead), on either socket: the
//     engine registers again at once.
//
// Liveness (on the heart socket)
//   engine -> controller  heartbeat  {}   every heartbeat_ms, once registered
//   controller -> engine  heartbeat  {}   at once, the parent being the engine's
//     The controller declares an engine dead when neither a heartbeat nor any
//     other message came from it for heartbeat_ms * allowed_misses, or when a
//     send to it fails because it disconnected. The engine takes its
//     controller for gone when no heartbeat came back for as long; it then
//     sends a registration_request every heartbeat_ms until a
//     registration_reply arrives (the DEALERs reconnect by themselves). Both
//     heartbeat threads run apart from the threads that send and run work, so
//     a long task or a long transfer is not silence.

// Work (every request with a task id gets exactly one apply_reply)
//   controller -> engine  apply_request   {task: int}
//                         buffers: pack_apply_message(function, args..., kwargs...)
//   controller -> engine  map_request     {task: int, count: int}
//                         buffers: pack_apply_message(function, chunk_0, chunk_1, ...):
//                         positional argument i is a list (or 1-D array) of `count`
//                         elements; the engine calls the function once per index
//                         and replies with the list of results (an ndarray when the
//                         results are numbers).
//   controller -> engine  push_request    {task: int, names: [str, ...]}
//                         buffers: one canned object per name, in order
//   controller -> engine  pull_request    {task: int, name: str}
//   engine -> controller  apply_reply     {task: int, status: "ok", engine_id: int}
//                         buffers: one canned object, the result (null for none)
//                         or                {task: int, status: "error", engine_id: int,
//                         function: str, ename: str, evalue: str}
//     ename is the error's type: "cannery.<errc>" for a cannery::error (e.g.
//     "cannery.type_mismatch" for a wrong argument), the C++ exception type
//     otherwise; evalue is its message.
//
// Cached objects (Controller::put)
//   controller -> engine  put_request     {ref: int, shared_memory: [...]}
//                         buffers: the object's frames
//     With shared_memory (SharedFrames::descriptor(): a list of {segment,
//     size, frames}), the frames it names arrive as empty placeholders and
//     are read from those segments. apply_request and map_request (alone or
//     as parts of a batch) may carry one too, naming SharedArray arguments.
//   controller -> engine  release_request {refs: [int, ...]}
//     An argument ["cannery.ref", id] (RefArgument below) in an apply_request
//     or map_request stands for the cached object's frames. A put_request is
//     always sent before the first request that uses it, on the same
//     connection, so it arrives first. Neither gets a reply.
//
// Batches (only to engines whose registration_request says batches: true)
//   controller -> engine  batch_request  {requests: [{type: str, frames: int, ...}, ...]}
//                         buffers: each request's buffers, one request after another
//     Each part is one request: `type` is its message type (apply_request,
//     map_request, push_request, pull_request, put_request, release_request),
//     the other fields its content, and `frames` the number of buffers that
//     are its own. The engine handles the parts in order, as if each had come
//     alone, and answers all those that get an apply_reply with one
//   engine -> controller  batch_reply    {replies: [{frames: int, ...}, ...]}
//                         buffers: each reply's buffers, one reply after another
//     whose parts are apply_replies' contents. The controller batches the
//     requests it has ready for one engine in the same round (so an idle
//     controller sends single messages, a busy one batches); batch.hpp builds
//     and splits both.
//
// Ending
//   controller -> engine  shutdown_request {}   the engine stops (no reply).

#include <cstdint>
#include <string_view>

#include "cannery/canning/canner.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery::protocol {

// Message types.
inline constexpr std::string_view registration_request = "registration_request";
inline constexpr std::string_view registration_reply = "registration_reply";
inline constexpr std::string_view heartbeat = "heartbeat";
inline constexpr std::string_view unknown_engine = "unknown_engine";
inline constexpr std::string_view apply_request = "apply_request";
inline constexpr std::string_view map_request = "map_request";
inline constexpr std::string_view push_request = "push_request";
inline constexpr std::string_view pull_request = "pull_request";
inline constexpr std::string_view apply_reply = "apply_reply";
inline constexpr std::string_view put_request = "put_request";
inline constexpr std::string_view release_request = "release_request";
inline constexpr std::string_view shutdown_request = "shutdown_request";
inline constexpr std::string_view batch_request = "batch_request";
inline constexpr std::string_view batch_reply = "batch_reply";

// Content fields.
inline constexpr std::string_view uuid = "uuid";
inline constexpr std::string_view pid = "pid";
inline constexpr std::string_view hostname = "hostname";
inline constexpr std::string_view functions = "functions";
inline constexpr std::string_view engine_id = "engine_id";
inline constexpr std::string_view heartbeat_ms = "heartbeat_ms";
inline constexpr std::string_view allowed_misses = "allowed_misses";
inline constexpr std::string_view heartbeat_endpoint = "heartbeat_endpoint";
inline constexpr std::string_view registrations = "registrations";
inline constexpr std::string_view task = "task";
inline constexpr std::string_view count = "count";
inline constexpr std::string_view names = "names";
inline constexpr std::string_view name = "name";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view status_ok = "ok";
inline constexpr std::string_view status_error = "error";
inline constexpr std::string_view function = "function";
inline constexpr std::string_view ename = "ename";
inline constexpr std::string_view evalue = "evalue";
inline constexpr std::string_view ref = "ref";
inline constexpr std::string_view refs = "refs";
inline constexpr std::string_view batches = "batches";
inline constexpr std::string_view shared_memory = "shared_memory";
inline constexpr std::string_view requests = "requests";
inline constexpr std::string_view replies = "replies";
inline constexpr std::string_view type = "type";
inline constexpr std::string_view frames = "frames";

// Routing ids of engines start with this, followed by the engine's uuid.
inline constexpr std::string_view engine_routing_prefix = "engine-";

// Connection-file endpoint name of the controller's ROUTER.
inline constexpr std::string_view engines_endpoint = "engines";

// An argument that names an object cached on the engine (Controller::put).
struct RefArgument {
  std::uint64_t id = 0;
};

}  // namespace cannery::protocol

template <>
struct cannery::canner<cannery::protocol::RefArgument> {
  static constexpr std::string_view tag = "cannery.ref";
  static void can(Writer& w, const protocol::RefArgument& ref) { w.integer(ref.id); }
  static protocol::RefArgument uncan(const Node& n) { return {n.to_integer<std::uint64_t>()}; }
};
