#pragma once
// The controller <-> engine protocol: message types and content fields.
// Engines and the controller never include each other; what they share is
// here. Every message is a Session message (signed envelope); canned values
// ride in its buffers.
//
// One connection per engine: the engine's DEALER (routing id = its uuid)
// talks to the controller's ROUTER.
//
//   engine -> controller   registration_request {uuid, pid, functions}
//   controller -> engine   registration_reply   {engine_id, heartbeat_ms}
//   both ways              heartbeat            {}            every heartbeat_ms
//   controller -> engine   apply_request        {task}        buffers: pack_apply_message frames
//   controller -> engine   map_request          {task}        buffers: pack_apply_message frames of
//                                                             chunks (one list per argument)
//   engine -> controller   apply_reply          {task, status: "ok"}                 buffers: result
//                                               {task, status: "error", ename, evalue, function}
//   controller -> engine   put_request          {ref}         buffers: the object's frames
//   controller -> engine   release_request      {refs: [..]}
//   controller -> engine   push_request         {names: [..]} buffers: one object per name
//   controller -> engine   pull_request         {task, name}  -> apply_reply with the value
//   controller -> engine   shutdown_request     {}
//   controller -> engine   unknown_engine       {}            "register again" (controller restarted)

#include <cstdint>
#include <string_view>

#include "cannery/canning/canner.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery::protocol {

inline constexpr std::string_view registration_request = "registration_request";
inline constexpr std::string_view registration_reply = "registration_reply";
inline constexpr std::string_view heartbeat = "heartbeat";
inline constexpr std::string_view apply_request = "apply_request";
inline constexpr std::string_view map_request = "map_request";
inline constexpr std::string_view apply_reply = "apply_reply";
inline constexpr std::string_view put_request = "put_request";
inline constexpr std::string_view release_request = "release_request";
inline constexpr std::string_view push_request = "push_request";
inline constexpr std::string_view pull_request = "pull_request";
inline constexpr std::string_view shutdown_request = "shutdown_request";
inline constexpr std::string_view unknown_engine = "unknown_engine";

// An argument that names an object cached on the engine (Controller::put):
// canned as ["cannery.ref", id]; the engine substitutes the cached frames.
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
