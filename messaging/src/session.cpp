#include "cannery/messaging/session.hpp"
#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <limits>
#include <tuple>
#include <utility>

#include "cannery/canning/detail/untrusted_msgpack.hpp"
#include "cannery/canning/plain_msgpack.hpp"
#include "cannery/canning/writer.hpp"
#include "cannery/messaging/detail/hex.hpp"
#include "cannery/messaging/detail/iso8601_clock.hpp"
#include "cannery/messaging/detail/poll.hpp"

namespace cannery {
namespace {

constexpr std::size_t signed_frame_count = 4;  // header, parent, metadata, content

// The constant frames are borrowed views of constant bytes: they live as
// long as the program (a Controller or Engine with static storage may still
// send while statics are torn down at exit), and copying them touches no
// reference count.
Buffer delimiter_frame() {
  return Buffer::borrow(delimiter.data(), delimiter.size());
}

// The header is packed directly (not through an Object): it is on every
// message's path. The fields go from the ones a session never changes to the
// ones every message changes (msg_id's counter, the date), so that one
// peer's headers share their first bytes and the Signer can reuse the HMAC
// state after them (hmac.cpp). A dict's order means nothing to Jupyter.
Buffer pack_header(const MessageHeader& h, detail::HeaderArena& arena) {
  detail::HeaderStream stream(arena);
  msgpack::packer<detail::HeaderStream> packer(stream);
  packer.pack_map(6);
  for (const auto& [key, value] :
       {std::pair<std::string_view, const std::string*>{"session", &h.session},
        {"username", &h.username},
        {"version", &h.version},
        {"msg_type", &h.msg_type},
        {"msg_id", &h.msg_id},
        {"date", &h.date}}) {
    packer.pack(key);
    packer.pack(*value);
  }
  return stream.take();
}

Buffer empty_dict_frame() {
  static constexpr std::byte empty_map[] = {std::byte{0x80}};  // msgpack's {}
  return Buffer::borrow(empty_map, sizeof empty_map);
}

// Most metadata and content dicts of requests are empty.
Buffer pack_dict(const Object& dict) {
  return dict.to_dict().empty() ? empty_dict_frame() : pack_plain(dict);
}

[[noreturn]] void malformed(const std::string& what) {
  throw error(errc::malformed_message, what);
}

Object unpack_dict(const Buffer& frame, const Limits& limits, const char* name) {
  // Most requests' metadata and content are empty.
  if (detail::is_empty_map(frame)) return Object::Dict{};
  Object value;
  try {
    value = unpack_plain(frame, limits);
  } catch (const error& e) {
    malformed(std::string(name) + " frame: " + e.message());
  }
  if (value.kind() != Object::Kind::dict) {
    malformed(std::string(name) + " frame is a " + value.kind_name() + ", not a dict");
  }
  return value;
}

// The header is read straight from msgpack into MessageHeader (no msgpack
// tree in between): it is on every message's path. nullopt for an empty map
// (an empty parent_header); extra keys are ignored, as Jupyter peers add some.
// `frame_name` ("header frame") labels errors; a literal, so that reading
// a header allocates nothing for a label only a refusal uses.
std::optional<MessageHeader> parse_header(const Buffer& frame, const Limits& limits,
                                          std::string_view frame_name) {
  if (detail::is_empty_map(frame)) return std::nullopt;
  MessageHeader h;
  h.version.clear();
  detail::StringField fields[] = {{"msg_id", &h.msg_id},     {"msg_type", &h.msg_type},
                                  {"username", &h.username}, {"session", &h.session},
                                  {"date", &h.date},         {"version", &h.version}};
  std::size_t entries = 0;
  try {
    entries = detail::read_string_fields(frame, limits.max_depth, fields, frame_name);
  } catch (const error& e) {
    malformed(e.message());
  }
  if (entries == 0) return std::nullopt;
  if (!fields[0].found || !fields[1].found)
    malformed(std::string(frame_name) + " needs 'msg_id' and 'msg_type'");
  return h;
}

void check_digests(const Object& metadata, std::span<const Buffer> buffers, bool required) {
  const Object* found = metadata.find(digests_key);
  if (found == nullptr) {
    if (required) {
      throw error(errc::digest_mismatch,
                  "message carries no buffer digests but this session requires them; enable "
                  "buffer_digests on the sender");
    }
    return;
  }
  const Object& digests = *found;
  if (digests.kind() != Object::Kind::list || digests.to_list().size() != buffers.size()) {
    throw error(errc::digest_mismatch, "message's buffer digests do not match its " +
                                           std::to_string(buffers.size()) + " buffer frames");
  }
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    const Object& expected = digests.to_list()[i];
    if (expected.kind() != Object::Kind::string ||
        expected.to_string() != buffer_digest(buffers[i])) {
      throw error(errc::digest_mismatch, "buffer frame " + std::to_string(i) +
                                             " does not match its signed digest: it was altered "
                                             "in transit");
    }
  }
}

// Position of the delimiter; frames.size() when there is none.
std::size_t delimiter_index(std::span<const Buffer> frames) {
  auto it = std::find_if(frames.begin(), frames.end(),
                         [](const Buffer& f) { return f.as_string_view() == delimiter; });
  return static_cast<std::size_t>(it - frames.begin());
}

// Who sent refused frames, for the log: the routing ids before the
// delimiter, or on a ROUTER socket at least the first frame (libzmq puts the
// peer's id there even when the rest is garbage).
std::string peer_of(zmq::socket_ref socket, std::span<const Buffer> frames) {
  std::size_t split = delimiter_index(frames);
  if (split == frames.size()) {
    split = socket.get(zmq::sockopt::type) == ZMQ_ROUTER && !frames.empty() ? 1 : 0;
  }
  return peer_label(frames.first(split));
}

// Identities, envelope and buffers as one vector: a serialized message.
template <class BufferIterator>
std::vector<Buffer> whole_message(const std::vector<Buffer>& identities, std::span<Buffer> envelope,
                                  BufferIterator first, BufferIterator last) {
  std::vector<Buffer> frames;
  frames.reserve(identities.size() + envelope.size() + static_cast<std::size_t>(last - first));
  frames.insert(frames.end(), identities.begin(), identities.end());
  frames.insert(frames.end(), std::make_move_iterator(envelope.begin()),
                std::make_move_iterator(envelope.end()));
  frames.insert(frames.end(), first, last);
  return frames;
}

}  // namespace

std::string new_session_id() {
  if (sodium_init() < 0) throw error(errc::io_error, "libsodium failed to initialise");
  // A random (version 4) UUID in its 32-digit hex form, without dashes: the
  // id travels twice in every header (session, and msg_id's start), and the
  // eight bytes saved help keep a small request's signed frames one SHA-256
  // block shorter (docs/security.md).
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // UUID version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return detail::hex(std::as_bytes(std::span(bytes)));
}

std::string iso8601_now() {
  return detail::Iso8601Clock().now();
}

Session::Session(SessionOptions options)
    : options_(std::move(options)),
      signer_(options_.key),
      refusals_(options_.log_sink),
      history_(options_.replay_history) {
  if (options_.signature_scheme != "hmac-sha256") {
    throw error(errc::invalid_argument, "signature scheme '" + options_.signature_scheme +
                                            "' is not supported; use hmac-sha256");
  }
  if (options_.key.empty()) {
    if (!options_.insecure) {
      throw error(errc::invalid_argument,
                  "a session needs a key: pass one (cannery::generate_key() makes one, the "
                  "controller writes it to the connection file), or set insecure = true to run "
                  "without signatures");
    }
    refusals_.warn(
        "cannery: WARNING: session without a key: messages are not signed, so anyone who can "
        "reach the socket can send messages");
  }
  if (options_.session_id.empty()) options_.session_id = new_session_id();
  // Message ids are "<session>_<n>": unique as long as session ids are.
  // (jupyter_client puts its pid in between, for sessions shared across a
  // fork; without it a small request's header stays under 180 bytes, so
  // signing and verifying it hash one SHA-256 block less: see hmac.cpp.)
  msg_id_prefix_ = options_.session_id + "_";
}

Message Session::message(std::string_view msg_type, Object content, const Message* parent) {
  Message m;
  // Filled in place: each field is made once, msg_id with one allocation.
  MessageHeader& h = m.header;
  std::array<char, std::numeric_limits<std::uint64_t>::digits10 + 1> counter;
  const auto counter_end = std::to_chars(counter.begin(), counter.end(), counter_++).ptr;
  h.msg_id.reserve(msg_id_prefix_.size() + static_cast<std::size_t>(counter_end - counter.begin()));
  h.msg_id.append(msg_id_prefix_).append(counter.begin(), counter_end);
  h.msg_type = msg_type;
  h.username = options_.username;
  h.session = options_.session_id;
  h.date = clock_.now();
  if (parent != nullptr) {
    m.parent_header = parent->header;
    m.identities = parent->identities;  // replies go back where the request came from
  }
  m.content = std::move(content);
  return m;
}

std::optional<FrameCompressor::Compressed> Session::compressed(const Message& message) {
  if (message.compressor == nullptr) return std::nullopt;
  return message.compressor->compress(message.buffers);
}

std::vector<Buffer> Session::serialize(const Message& message) const {
  if (std::optional<FrameCompressor::Compressed> c = compressed(message)) {
    Envelope envelope = signed_envelope(message, c->frames, std::move(c->codings));
    return whole_message(message.identities, envelope, std::make_move_iterator(c->frames.begin()),
                         std::make_move_iterator(c->frames.end()));
  }
  Envelope envelope = signed_envelope(message, message.buffers, {});
  return whole_message(message.identities, envelope, message.buffers.begin(),
                       message.buffers.end());
}

std::vector<Buffer> Session::serialize(Message&& message) const {
  if (message.compressor != nullptr) return serialize(std::as_const(message));
  Envelope envelope = signed_envelope(message, message.buffers, {});
  return whole_message(message.identities, envelope,
                       std::make_move_iterator(message.buffers.begin()),
                       std::make_move_iterator(message.buffers.end()));
}

Session::Envelope Session::signed_envelope(const Message& message,
                                           std::span<const Buffer> wire_buffers,
                                           Object::List codings) const {
  if (message.metadata.kind() != Object::Kind::dict ||
      message.content.kind() != Object::Kind::dict) {
    throw error(errc::invalid_argument, "a message's metadata and content must be dicts");
  }
  Envelope frames;
  frames[0] = delimiter_frame();
  // frames[1], the signature, is filled last.
  constexpr std::size_t first_signed = 2;
  // The header, the parent header and the signature share one allocation.
  detail::HeaderArena arena;
  frames[2] = pack_header(message.header, arena);
  frames[3] =
      message.parent_header ? pack_header(*message.parent_header, arena) : empty_dict_frame();
  if (options_.buffer_digests || !codings.empty()) {
    Object metadata = message.metadata;
    if (options_.buffer_digests) {
      // Of the bytes sent: checked before anything is decompressed.
      Object::List digests;
      digests.reserve(wire_buffers.size());
      for (const Buffer& b : wire_buffers)
        digests.emplace_back(buffer_digest(b));
      metadata.to_dict().insert_or_assign(std::string(digests_key), Object(std::move(digests)));
    }
    if (!codings.empty())
      metadata.to_dict().insert_or_assign(std::string(codings_key), Object(std::move(codings)));
    frames[4] = pack_plain(metadata);
  } else {
    frames[4] = pack_dict(message.metadata);
  }
  frames[5] = pack_dict(message.content);
  static_assert(first_signed + signed_frame_count == std::tuple_size_v<Envelope>);
  if (signer_.enabled()) {
    detail::HeaderStream signature(arena, Signer::signature_size);
    signer_.sign_into(std::span<const Buffer>(frames).subspan(first_signed, signed_frame_count),
                      std::span<char, Signer::signature_size>(
                          reinterpret_cast<char*>(signature.extend(Signer::signature_size)),
                          Signer::signature_size));
    frames[1] = signature.take();
  }
  return frames;
}

Message Session::deserialize(std::span<const Buffer> frames) {
  return deserialize(std::vector<Buffer>(frames.begin(), frames.end()));
}

Message Session::deserialize(std::vector<Buffer>&& frames) {
  std::size_t split = delimiter_index(frames);
  if (split == frames.size())
    malformed("no \"<IDS|MSG>\" delimiter among " + std::to_string(frames.size()) + " frames");
  if (frames.size() - split < 2 + signed_frame_count) {
    malformed("message has " + std::to_string(frames.size() - split - 1) +
              " frames after its delimiter; a signature and four dicts are needed");
  }
  const std::string_view signature = frames[split + 1].as_string_view();
  const auto signed_frames = std::span<const Buffer>(frames).subspan(split + 2, signed_frame_count);
  std::size_t envelope_bytes = 0;
  for (const Buffer& f : signed_frames)
    envelope_bytes += f.size();
  if (envelope_bytes > options_.max_envelope_bytes) {
    throw error(errc::limit_exceeded, "message dicts of " + std::to_string(envelope_bytes) +
                                          " bytes, more than SessionOptions::max_envelope_bytes (" +
                                          std::to_string(options_.max_envelope_bytes) +
                                          "); refused before hashing");
  }
  if (signer_.enabled()) {
    if (signature.empty()) {
      throw error(errc::signature_missing, "message is not signed but this session has a key");
    }
    history_.prefetch(signature);
    if (!signer_.verify(signed_frames, signature)) {
      throw error(
          errc::signature_mismatch,
          "message signature does not match: altered in transit, or signed with another key "
          "(a peer started with a stale connection file, from an earlier run: give it the "
          "current one)");
    }
    if (!history_.remember(signature)) {
      throw error(errc::replayed_message, "message signature was seen before: a replayed message");
    }
  }
  Message m;
  std::optional<MessageHeader> header =
      parse_header(signed_frames[0], options_.limits, "header frame");
  if (!header) malformed("header frame is an empty dict");
  m.header = std::move(*header);
  m.parent_header = parse_header(signed_frames[1], options_.limits, "parent_header frame");
  m.metadata = unpack_dict(signed_frames[2], options_.limits, "metadata");
  m.content = unpack_dict(signed_frames[3], options_.limits, "content");
  const auto buffers = std::span<Buffer>(frames).subspan(split + 2 + signed_frame_count);
  check_digests(m.metadata, buffers, options_.buffer_digests);
  // Decompressed into a copy of the list, so that a refusal leaves the
  // frames as they were.
  std::optional<std::vector<Buffer>> decompressed;
  if (const Object* codings = m.metadata.find(codings_key)) {
    decompressed.emplace(buffers.begin(), buffers.end());
    decompress_frames(*codings, *decompressed, options_.decompression);
    // The message as it was before the link compressed it: sent on, it must
    // not claim that its (now decompressed) frames are compressed.
    Object::Dict& metadata = m.metadata.to_dict();
    metadata.erase(metadata.find(codings_key));
  }
  // Accepted: only now are frames moved out (a refusal leaves them whole).
  const auto identities = std::span<Buffer>(frames).first(split);
  m.identities.assign(std::make_move_iterator(identities.begin()),
                      std::make_move_iterator(identities.end()));
  // The buffers keep the received vector's storage: one allocation less.
  frames.erase(frames.begin(),
               frames.begin() + static_cast<std::ptrdiff_t>(split + 2 + signed_frame_count));
  if (decompressed) frames = std::move(*decompressed);
  m.buffers = aligned_for_views(std::move(frames));
  return m;
}

void Session::send(zmq::socket_ref socket, const Message& message) {
  // Sent from where the frames are: no vector gathers them first.
  std::optional<FrameCompressor::Compressed> c = compressed(message);
  const std::span<const Buffer> buffers = c ? std::span<const Buffer>(c->frames) : message.buffers;
  const Envelope envelope =
      signed_envelope(message, buffers, c ? std::move(c->codings) : Object::List{});
  const std::span<const Buffer> parts[] = {message.identities, envelope, buffers};
  send_frames(socket, parts, options_.frames);
}

void Session::send(zmq::socket_ref socket, Message&& message) {
  send(socket, std::as_const(message));
  // libzmq holds what it still needs: the buffers are handed over, not
  // kept alive until the caller drops the message.
  message.buffers.clear();
}

std::optional<Message> Session::receive(zmq::socket_ref socket, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Reading first: when messages are queued, as under load, zmq_poll would
    // only add system calls.
    std::vector<Buffer> frames;
    try {
      auto received = receive_frames(socket, options_.frames, zmq::recv_flags::dontwait);
      if (received) {
        frames = std::move(*received);
        return deserialize(std::move(frames));
      }
    } catch (const error& refusal) {
      refusals_.record(refusal, peer_of(socket, frames));
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    detail::poll({&item, 1}, left);  // a timeout, or a signal: the deadline decides
  }
}

}  // namespace cannery
