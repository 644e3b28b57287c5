#pragma once
// Session: builds, signs, sends, receives and verifies messages in the
// Jupyter wire protocol (version 5.3):
//
//   [routing ids..., "<IDS|MSG>", signature, header, parent_header,
//    metadata, content, buffers...]
//
// The four dicts are plain msgpack; the signature is the lowercase hex
// HMAC-SHA256 of those four frames, keyed with the key string. Canned objects
// ride in the buffers. A peer using jupyter_client's Session with
// packer='msgpack.packb', unpacker='msgpack.unpackb' and the same key reads
// and writes these messages. See docs/messaging.md and docs/security.md.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/canning/options.hpp"
#include "cannery/messaging/compression.hpp"
#include "cannery/messaging/detail/iso8601_clock.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/hmac.hpp"
#include "cannery/messaging/refusals.hpp"
#include "cannery/messaging/replay_history.hpp"

namespace cannery {

inline constexpr std::string_view protocol_version = "5.3";
inline constexpr std::string_view delimiter = "<IDS|MSG>";
// Metadata key of the per-buffer digests (a list of BLAKE2b-256 hex strings).
inline constexpr std::string_view digests_key = "cannery.digests";

struct MessageHeader {
  std::string msg_id;
  std::string msg_type;
  std::string username;
  std::string session;
  std::string date;  // ISO 8601, UTC, microseconds: 2026-11-21T09:10:00.123456Z
  std::string version{protocol_version};
};

struct Message {
  std::vector<Buffer> identities;  // routing ids before the delimiter
  MessageHeader header;
  std::optional<MessageHeader> parent_header;  // sent as {} when empty
  Object metadata = Object::Dict{};
  Object content = Object::Dict{};
  std::vector<Buffer> buffers;  // canned objects' frames, e.g. pack_apply_message's
  // The link's compressor: when set, large buffers go compressed as it says
  // (compression.hpp); the receiver's Session puts them back. Not sent.
  std::shared_ptr<FrameCompressor> compressor;
};

struct SessionOptions {
  // The HMAC key. Empty is refused unless `insecure` says so explicitly.
  std::string key;
  bool insecure = false;
  std::string signature_scheme = "hmac-sha256";
  std::string username = "cannery";
  std::string session_id;  // random when empty
  // Sign a digest of every buffer frame inside the metadata, and refuse
  // received messages whose buffers do not match (or carry no digests).
  bool buffer_digests = false;
  // How many signatures to remember against replays (jupyter_client's size).
  std::size_t replay_history = 65536;
  // Largest total of the four signed dicts (header, parent_header, metadata,
  // content) accepted. Larger messages are refused before anything is hashed:
  // a peer without the key must not make the receiver hash megabytes per
  // message. Our requests' dicts are a few hundred bytes; a registration with
  // thousands of function names or a put of thousands of shared-memory frames
  // stays well below the default. Arrays travel in buffers, not counted here.
  std::size_t max_envelope_bytes = std::size_t{1} << 20;
  FrameOptions frames;
  // What compressed buffer frames may declare (compression.hpp).
  DecompressionLimits decompression;
  Limits limits;              // for the four dicts
  RefusalLog::Sink log_sink;  // where refusals and warnings go (stderr)
};

class Session {
 public:
  explicit Session(SessionOptions options);

  // A new message with a fresh header (msg_id, date, session, username).
  Message message(std::string_view msg_type, Object content = Object::Dict{},
                  const Message* parent = nullptr);
  // Frames ready for a socket, signed.
  std::vector<Buffer> serialize(const Message& message) const;
  // The same, moving the message's buffers into the frames instead of
  // sharing them (no reference counts touched: a message sent once).
  std::vector<Buffer> serialize(Message&& message) const;
  // Checks then unpacks received frames; throws cannery::error with the
  // reason (malformed_message, signature_missing, signature_mismatch,
  // replayed_message, digest_mismatch, ...). Verification happens before
  // anything is unpacked; a signature is remembered only once verified.
  Message deserialize(std::span<const Buffer> frames);
  // The same, moving the identities and buffers out of `frames` once the
  // message is accepted; when it throws, `frames` is left as it was.
  Message deserialize(std::vector<Buffer>&& frames);

  // serialize + send_frames, without gathering the frames into a vector.
  void send(zmq::socket_ref socket, const Message& message);
  // The same; the message's buffers are released once libzmq has them, so
  // memory handed over zero-copy lives only as long as libzmq needs it.
  void send(zmq::socket_ref socket, Message&& message);
  // Waits up to `timeout` for the next valid message. Refused messages are
  // counted and logged (refusals()) and skipped. nullopt on timeout.
  std::optional<Message> receive(zmq::socket_ref socket, std::chrono::milliseconds timeout);

  const RefusalLog& refusals() const noexcept { return refusals_; }
  // For a caller that refuses a verified message for what it says.
  RefusalLog& refusals() noexcept { return refusals_; }
  const std::string& session_id() const noexcept { return options_.session_id; }
  const SessionOptions& options() const noexcept { return options_; }

 private:
  // The frames between the identities and the buffers: delimiter,
  // signature and the four signed dicts.
  using Envelope = std::array<Buffer, 6>;
  // The envelope of `message` whose buffers go as `wire_buffers`, which
  // `codings` (may be empty) says how to put back.
  Envelope signed_envelope(const Message& message, std::span<const Buffer> wire_buffers,
                           Object::List codings) const;
  // The message's buffers compressed by its compressor; nullopt when it has
  // none or it compressed nothing.
  static std::optional<FrameCompressor::Compressed> compressed(const Message& message);

  SessionOptions options_;
  Signer signer_;
  RefusalLog refusals_;
  std::string msg_id_prefix_;
  std::uint64_t counter_ = 0;
  detail::Iso8601Clock clock_;
  ReplayHistory history_;
};

// A fresh random session id: a version 4 UUID as 32 hex digits, no dashes.
std::string new_session_id();
// Now as ISO 8601 UTC with microseconds.
std::string iso8601_now();

}  // namespace cannery
