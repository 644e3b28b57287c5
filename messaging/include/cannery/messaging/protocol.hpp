#pragma once
// The controller <-> engine protocol: what both sides share besides the
// message structs (messages.hpp) and their codec (codec.hpp). Engines and the
// controller never include each other. docs/protocol.md describes every
// message, the connections, and the states of an engine and of a task.
//
// Every message is a Session message (signed Jupyter envelope, session.hpp)
// whose content is a message struct encoded by the codec; canned values ride
// in its buffers. Each engine connects two DEALERs to the controller's two
// ROUTERs: one for work, one (the heart) for heartbeats only, so a 400 MB
// request queued for an engine never delays its heartbeats.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/canning/canner.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery::protocol {

// The protocol's version, "major.minor", sent in both registration messages.
// Peers of one major version work together: a newer minor version only adds
// optional fields (which older peers ignore) and capabilities (used only when
// both sides name them). Another major version is refused on both sides.
struct Version {
  int major = 0;
  int minor = 0;
  friend bool operator==(const Version&, const Version&) = default;
};
inline constexpr Version version{1, 4};

std::string to_string(Version v);
// Nullopt unless "<major>.<minor>" with both whole numbers.
std::optional<Version> parse_version(std::string_view text);

// Why a peer announcing `theirs` cannot work with this side's `ours`, for
// both sides' logs (names both versions and what to do); nullopt when it can.
// `peer` says who announced it ("engine 3", "the controller").
std::optional<std::string> incompatibility(std::string_view theirs, Version ours,
                                           std::string_view peer);

// Optional features, named in the registration messages' capabilities. A
// side uses one only when both name it.
namespace capability {
// batch_request / batch_reply.
inline constexpr std::string_view batches = "batches";
// Frames read from /dev/shm (shared_memory descriptors), when the probe also
// shows both see the same /dev/shm.
inline constexpr std::string_view shared_memory = "shared_memory";
// A data socket (registration_request.data_endpoint), fetch_request and
// apply_request.keep_as: results kept on engines, moved engine to engine.
inline constexpr std::string_view data_plane = "data_plane";
// Since 1.3, with data_plane: relayed puts (fetch_request.frame_sizes,
// chunk_request / chunk_reply, fetch_report, registration_request.shm_domain):
// a large object leaves the controller once and engines pass it on.
inline constexpr std::string_view relay = "relay";
// Since 1.4: decodes compressed buffer frames (metadata `cannery.codings`,
// every codec of compression.hpp's wire_codecs()); the controller then says
// in registration_reply.compression how the engine compresses what it sends.
inline constexpr std::string_view compression = "compression";
}  // namespace capability

bool has_capability(const std::vector<std::string>& capabilities, std::string_view name);

// The function every engine has (since 1.2) that answers with its one
// argument as it arrived: ObjectRef::get brings a kept object back with it.
inline constexpr std::string_view get_function = "cannery.get";

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
