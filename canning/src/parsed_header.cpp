// Parsing of a received header frame. Everything here treats the bytes as
// hostile (see detail/untrusted_msgpack.hpp).

#include "cannery/canning/detail/untrusted_msgpack.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/serialize.hpp"

namespace cannery::detail {

ParsedHeader::ParsedHeader(std::span<const Buffer> frames, const Limits& limits, Purpose purpose)
    : own_budget_(limits) {
  if (frames.empty()) {
    throw error(errc::missing_buffers, "no frames left: expected a header frame");
  }
  const Buffer& header = frames.front();
  if (header.size() > limits.max_header_bytes) {
    throw error(errc::limit_exceeded, "header frame of " + std::to_string(header.size()) +
                                          " bytes exceeds Limits::max_header_bytes (" +
                                          std::to_string(limits.max_header_bytes) + ")");
  }
  zone_ = take_pooled_zone();
  // +2: the header array and a tag wrapper around the root.
  const msgpack::object top = parse_untrusted(header, limits.max_depth + 2, *zone_, "header frame");
  if (top.type != msgpack::type::ARRAY || top.via.array.size != 3) {
    throw error(errc::malformed_header,
                "header frame is not [version, root, buffer_count]; is this a cannery frame?");
  }
  const msgpack::object* items = top.via.array.ptr;
  if (items[0].type != msgpack::type::POSITIVE_INTEGER) {
    throw error(errc::malformed_header, "header frame does not start with a format version");
  }
  if (items[0].via.u64 != format::version) {
    throw error(errc::version_mismatch,
                "header uses format version " + std::to_string(items[0].via.u64) +
                    "; this build reads version " + std::to_string(format::version) +
                    ": upgrade the older side");
  }
  if (items[2].type != msgpack::type::POSITIVE_INTEGER) {
    throw error(errc::malformed_header, "header frame's buffer count is not an unsigned integer");
  }
  std::uint64_t nbuffers = items[2].via.u64;
  if (nbuffers > limits.max_buffers) {
    throw error(errc::limit_exceeded, "object claims " + std::to_string(nbuffers) +
                                          " buffer frames; Limits::max_buffers is " +
                                          std::to_string(limits.max_buffers));
  }
  if (nbuffers > frames.size() - 1) {
    throw error(errc::missing_buffers,
                "object needs " + std::to_string(nbuffers) + " buffer frames but only " +
                    std::to_string(frames.size() - 1) + " frames follow its header");
  }
  root_ = &items[1];
  context_.header = &header;
  context_.buffers = frames.subspan(1, nbuffers);
  context_.limits = limits;
  remaining_ = frames.subspan(1 + nbuffers);
  if (purpose == Purpose::decode) {
    DecodeBudget* shared = limits.shared_budget.get();
    context_.budget = shared != nullptr ? shared : &own_budget_;
    std::size_t received = header.size();
    for (const Buffer& buffer : context_.buffers)
      received += buffer.size();  // frames in memory: their sizes cannot overflow
    context_.budget->add_received(received);
  }
}

ParsedHeader::~ParsedHeader() = default;

}  // namespace cannery::detail

namespace cannery {

PeekedObject peek_object(std::span<const Buffer> frames, const Limits& limits) {
  detail::ParsedHeader parsed(frames, limits, detail::ParsedHeader::Purpose::peek);
  const std::size_t own = frames.size() - parsed.remaining().size();
  const Node root = parsed.root();
  // Unquoted, as CannedObject::tag (kind_name() quotes tags for messages).
  std::string tag = root.kind() == Node::Kind::tagged ? std::string(root.tag()) : root.kind_name();
  return {std::move(tag), frames.first(own), parsed.remaining()};
}

}  // namespace cannery
