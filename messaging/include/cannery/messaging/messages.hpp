#pragma once
// Every message of the controller <-> engine protocol, one struct each, its
// fields listed once for the codec (codec.hpp). docs/protocol.md says who
// sends each, when, and what the engine and a task go through; protocol.hpp
// holds the version, capabilities and names both sides share.

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "cannery/messaging/codec.hpp"

namespace cannery::protocol {

// --- Values inside messages ------------------------------------------------------

// A frame of a request that rides in a shared memory segment: the request
// carries an empty placeholder at `index`, the bytes are at [offset,
// offset + length) of the segment.
struct FramePlacement {
  std::uint64_t index = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  static constexpr auto fields() {
    return std::tuple{field("index", &FramePlacement::index),
                      field("offset", &FramePlacement::offset),
                      field("length", &FramePlacement::length)};
  }
};

// One segment of a shared memory descriptor (SharedFrames::descriptor()).
struct SegmentDescriptor {
  std::string segment;  // its name in /dev/shm
  std::uint64_t size = 0;
  std::vector<FramePlacement> frames;
  static constexpr auto fields() {
    return std::tuple{field("segment", &SegmentDescriptor::segment, 1, 255),
                      field("size", &SegmentDescriptor::size),
                      field("frames", &SegmentDescriptor::frames)};
  }
};

using SharedMemoryDescriptor = std::vector<SegmentDescriptor>;

// A segment an engine made so that the controller can tell whether both
// see the same /dev/shm (SharedMemoryProbe).
struct ProbeDescription {
  std::string segment;
  std::string token;
  static constexpr auto fields() {
    return std::tuple{field("segment", &ProbeDescription::segment, 1, 255),
                      field("token", &ProbeDescription::token, 1, 255)};
  }
};

enum class Status { ok, error };
constexpr std::array<std::string_view, 2> names_of(Status) {
  return {"ok", "error"};
}

// --- Registration (work socket) ---------------------------------------------------

struct RegistrationRequest {
  static constexpr std::string_view type = "registration_request";
  std::string uuid;
  int pid = 0;
  std::string hostname;
  std::vector<std::string> functions;
  std::string protocol;                   // "major.minor" (protocol.hpp, version)
  std::vector<std::string> capabilities;  // protocol.hpp, capability
  // How many registration_replies this engine process accepted before.
  std::uint64_t registrations = 0;
  std::optional<ProbeDescription> shared_memory;
  // Since 1.1: the engine's rank among the processes its launcher started
  // (MPI, Slurm); absent otherwise.
  std::optional<std::int64_t> rank;
  // Since 1.2: where other engines fetch this engine's objects (its data
  // socket, data_plane capability).
  std::optional<std::string> data_endpoint;
  // Since 1.3 (relay): which /dev/shm this engine sees (shm_domain()):
  // engines that name the same one share a relayed object through it.
  // Since 1.4 sent whenever the engine uses shared memory, relay or not:
  // the controller compresses only links to engines of another domain.
  std::optional<std::string> shm_domain;
  // Since 1.3, when the cluster uses CURVE: the public key of its data
  // socket (a CURVE server), which engines fetching from it must know.
  std::optional<std::string> data_curve_key;
  static constexpr auto fields() {
    using M = RegistrationRequest;
    // The routing id, "engine-<uuid>", must fit ZeroMQ's 255 bytes.
    return std::tuple{field("uuid", &M::uuid, 1, 248),
                      field("pid", &M::pid, 0, std::numeric_limits<int>::max()),
                      field("hostname", &M::hostname, 0, 255),
                      field("functions", &M::functions),
                      field("protocol", &M::protocol, 1, 32),
                      field("capabilities", &M::capabilities),
                      field("registrations", &M::registrations),
                      field("shared_memory", &M::shared_memory),
                      field("rank", &M::rank, 0, std::numeric_limits<std::int64_t>::max()),
                      field("data_endpoint", &M::data_endpoint, 1, 1024),
                      field("shm_domain", &M::shm_domain, 1, 255),
                      field("data_curve_key", &M::data_curve_key, 40, 40)};
  }
};

// How one side of a link compresses its large buffer frames
// (compression.hpp, LinkCompression).
struct CompressionSetting {
  std::string codec;  // a wire codec or "auto"; never "none" (the field is absent then)
  std::uint64_t min_bytes = 0;
  int level = 0;
  static constexpr auto fields() {
    using M = CompressionSetting;
    return std::tuple{
        field("codec", &M::codec, 1, 32),
        field("min_bytes", &M::min_bytes, 1, std::numeric_limits<std::uint64_t>::max()),
        field("level", &M::level, 0, 65537)};
  }
};

struct RegistrationReply {
  static constexpr std::string_view type = "registration_reply";
  int engine_id = 0;
  std::int64_t heartbeat_ms = 0;
  int allowed_misses = 0;
  std::string heartbeat_endpoint;  // the heart socket as bound
  std::string protocol;
  std::vector<std::string> capabilities;
  // Since 1.4, to an engine that named `compression`, on a link that
  // compresses (a tcp link to another host, when the controller's options
  // say so): how the engine compresses what it sends back.
  std::optional<CompressionSetting> compression;
  static constexpr auto fields() {
    using M = RegistrationReply;
    return std::tuple{field("engine_id", &M::engine_id, 0, std::numeric_limits<int>::max()),
                      field("heartbeat_ms", &M::heartbeat_ms, 1, 3'600'000),
                      field("allowed_misses", &M::allowed_misses, 1, 1'000'000),
                      field("heartbeat_endpoint", &M::heartbeat_endpoint, 1, 1024),
                      field("protocol", &M::protocol, 1, 32),
                      field("capabilities", &M::capabilities),
                      field("compression", &M::compression)};
  }
};

// The controller will not serve this engine (another major protocol
// version); the engine stops with `reason`.
struct RegistrationRefused {
  static constexpr std::string_view type = "registration_refused";
  std::string protocol;  // the controller's
  std::string reason;
  static constexpr auto fields() {
    return std::tuple{field("protocol", &RegistrationRefused::protocol, 1, 32),
                      field("reason", &RegistrationRefused::reason, 0, 4096)};
  }
};

// The answer to anything from a routing id the controller does not know.
struct UnknownEngine {
  static constexpr std::string_view type = "unknown_engine";
  static constexpr auto fields() { return std::tuple{}; }
};

// --- Liveness (heart socket) --------------------------------------------------------

struct Heartbeat {
  static constexpr std::string_view type = "heartbeat";
  static constexpr auto fields() { return std::tuple{}; }
};

// --- Work ---------------------------------------------------------------------------

// buffers: pack_apply_message(function, args..., kwargs...)
struct ApplyRequest {
  static constexpr std::string_view type = "apply_request";
  std::uint64_t task = 0;
  std::optional<SharedMemoryDescriptor> shared_memory;
  // Since 1.2 (data_plane): keep the result on the engine under this ref and
  // answer with its size in bytes (an int) instead of the result.
  std::optional<std::uint64_t> keep_as;
  static constexpr auto fields() {
    return std::tuple{field("task", &ApplyRequest::task),
                      field("shared_memory", &ApplyRequest::shared_memory),
                      field("keep_as", &ApplyRequest::keep_as)};
  }
};

// buffers: pack_apply_message(function, chunk_0, chunk_1, ...), each chunk
// `count` elements.
struct MapRequest {
  static constexpr std::string_view type = "map_request";
  std::uint64_t task = 0;
  std::uint64_t count = 0;
  std::optional<SharedMemoryDescriptor> shared_memory;
  static constexpr auto fields() {
    return std::tuple{field("task", &MapRequest::task), field("count", &MapRequest::count),
                      field("shared_memory", &MapRequest::shared_memory)};
  }
};

// buffers: one canned object per name, in order.
struct PushRequest {
  static constexpr std::string_view type = "push_request";
  std::uint64_t task = 0;
  std::vector<std::string> names;
  static constexpr auto fields() {
    return std::tuple{field("task", &PushRequest::task), field("names", &PushRequest::names)};
  }
};

struct PullRequest {
  static constexpr std::string_view type = "pull_request";
  std::uint64_t task = 0;
  std::string name;
  static constexpr auto fields() {
    return std::tuple{field("task", &PullRequest::task), field("name", &PullRequest::name)};
  }
};

// buffers: the object's frames. No reply.
struct PutRequest {
  static constexpr std::string_view type = "put_request";
  std::uint64_t ref = 0;
  std::optional<SharedMemoryDescriptor> shared_memory;
  static constexpr auto fields() {
    return std::tuple{field("ref", &PutRequest::ref),
                      field("shared_memory", &PutRequest::shared_memory)};
  }
};

// Since 1.3 (relay): another place a relayed object can be had.
struct RelaySource {
  int engine = -1;  // -1: the controller's relay socket
  std::string endpoint;
  // Its data socket's CURVE public key, when the cluster uses CURVE (the
  // controller's is in the connection file).
  std::optional<std::string> curve_key;
  static constexpr auto fields() {
    return std::tuple{field("engine", &RelaySource::engine, -1, std::numeric_limits<int>::max()),
                      field("endpoint", &RelaySource::endpoint, 1, 1024),
                      field("curve_key", &RelaySource::curve_key, 40, 40)};
  }
};

// Since 1.2 (data_plane): fetch the object cached under `ref` by engine
// `from_engine` from its data socket at `endpoint`, and cache it under the
// same ref. No reply: a call that uses the ref and finds it missing fails.
//
// Since 1.3 (relay), with `frame_sizes`: a relayed put. The engine fetches
// it in pieces (chunk_request) into frames of these sizes, serves the pieces
// it has to engines fetching from it meanwhile, tries `fallbacks` in order
// when its source stops answering, and sends a fetch_report when done.
// `from_engine` -1 is the controller's relay socket.
struct FetchRequest {
  static constexpr std::string_view type = "fetch_request";
  std::uint64_t ref = 0;
  int from_engine = 0;
  std::string endpoint;
  std::optional<std::vector<std::uint64_t>> frame_sizes;
  std::optional<std::vector<RelaySource>> fallbacks;
  // Since 1.3, when the cluster uses CURVE: the CURVE public key of
  // from_engine's data socket.
  std::optional<std::string> curve_key;
  static constexpr auto fields() {
    return std::tuple{
        field("ref", &FetchRequest::ref),
        field("from_engine", &FetchRequest::from_engine, -1, std::numeric_limits<int>::max()),
        field("endpoint", &FetchRequest::endpoint, 1, 1024),
        field("frame_sizes", &FetchRequest::frame_sizes),
        field("fallbacks", &FetchRequest::fallbacks),
        field("curve_key", &FetchRequest::curve_key, 40, 40)};
  }
};

// Since 1.3 (relay): how a relayed fetch_request ended, for the controller's
// bookkeeping and its stats of the ref. No reply.
struct FetchReport {
  static constexpr std::string_view type = "fetch_report";
  std::uint64_t ref = 0;
  bool ok = false;
  std::uint64_t from_engines = 0;     // bytes that came from other engines
  std::uint64_t from_controller = 0;  // bytes that came from the controller
  // Bytes mapped from an engine of the same host instead (0 or all of them).
  std::uint64_t through_shared_memory = 0;
  std::optional<std::string> why;  // when not ok
  static constexpr auto fields() {
    return std::tuple{field("ref", &FetchReport::ref),
                      field("ok", &FetchReport::ok),
                      field("from_engines", &FetchReport::from_engines),
                      field("from_controller", &FetchReport::from_controller),
                      field("through_shared_memory", &FetchReport::through_shared_memory),
                      field("why", &FetchReport::why, 0, 4096)};
  }
};

// No reply.
struct ReleaseRequest {
  static constexpr std::string_view type = "release_request";
  std::vector<std::uint64_t> refs;
  static constexpr auto fields() { return std::tuple{field("refs", &ReleaseRequest::refs)}; }
};

// The one answer to every request with a task id. buffers: the result, one
// canned object (ok), none (error).
struct ApplyReply {
  static constexpr std::string_view type = "apply_reply";
  std::uint64_t task = 0;
  int engine_id = -1;  // -1 from an engine that is not registered
  Status status = Status::ok;
  // With status error: the function (or "apply", "map", "push", "pull"), the
  // error's type ("cannery.<errc>" for a cannery::error) and message.
  std::optional<std::string> function;
  std::optional<std::string> ename;
  std::optional<std::string> evalue;
  static constexpr auto fields() {
    using M = ApplyReply;
    return std::tuple{field("task", &M::task),
                      field("engine_id", &M::engine_id, -1, std::numeric_limits<int>::max()),
                      field("status", &M::status),
                      field("function", &M::function),
                      field("ename", &M::ename),
                      field("evalue", &M::evalue)};
  }
};

// --- Data plane (an engine's data socket, engine to engine) --------------------

// Asks the engine for the object it caches under `ref`.
struct ObjectRequest {
  static constexpr std::string_view type = "object_request";
  std::uint64_t ref = 0;
  static constexpr auto fields() { return std::tuple{field("ref", &ObjectRequest::ref)}; }
};

// buffers: the object's frames when `found`, else none.
struct ObjectReply {
  static constexpr std::string_view type = "object_reply";
  std::uint64_t ref = 0;
  bool found = false;
  static constexpr auto fields() {
    return std::tuple{field("ref", &ObjectReply::ref), field("found", &ObjectReply::found)};
  }
};

// Since 1.3 (relay): asks for the bytes [offset, offset + length) of the
// object cached or arriving under `ref`, its frames taken end to end; the
// range lies within one frame. With `shm_domain`: asks instead for the
// whole object through shared memory, when the server holds it there and
// sees that /dev/shm (offset and length are then 0).
struct ChunkRequest {
  static constexpr std::string_view type = "chunk_request";
  std::uint64_t ref = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::optional<std::string> shm_domain;
  static constexpr auto fields() {
    return std::tuple{field("ref", &ChunkRequest::ref), field("offset", &ChunkRequest::offset),
                      field("length", &ChunkRequest::length),
                      field("shm_domain", &ChunkRequest::shm_domain, 1, 255)};
  }
};

// data: the one buffer frame holds the bytes asked for. pending: they have
// not arrived here yet, ask again. missing: neither cached nor arriving
// here. shared: the object is whole in the segments of `shared_memory`.
// not_shared: it cannot be had through shared memory here: ask for bytes.
enum class ChunkState { data, pending, missing, shared, not_shared };
constexpr std::array<std::string_view, 5> names_of(ChunkState) {
  return {"data", "pending", "missing", "shared", "not_shared"};
}

struct ChunkReply {
  static constexpr std::string_view type = "chunk_reply";
  std::uint64_t ref = 0;
  std::uint64_t offset = 0;
  ChunkState state = ChunkState::missing;
  std::optional<SharedMemoryDescriptor> shared_memory;
  static constexpr auto fields() {
    return std::tuple{field("ref", &ChunkReply::ref), field("offset", &ChunkReply::offset),
                      field("state", &ChunkReply::state),
                      field("shared_memory", &ChunkReply::shared_memory)};
  }
};

// --- Ending -----------------------------------------------------------------------

struct ShutdownRequest {
  static constexpr std::string_view type = "shutdown_request";
  static constexpr auto fields() { return std::tuple{}; }
};

// Batches (batch.hpp) carry several of the work messages above in one
// envelope; their type names are here for the dispatch tables.
// batch_request: {requests: [part, ...]}, each part naming its type;
// batch_reply: {replies: [part, ...]}, every part an apply_reply (unnamed).
inline constexpr std::string_view batch_request = "batch_request";
inline constexpr std::string_view batch_reply = "batch_reply";
inline constexpr std::string_view batch_requests_field = "requests";
inline constexpr std::string_view batch_replies_field = "replies";

}  // namespace cannery::protocol
