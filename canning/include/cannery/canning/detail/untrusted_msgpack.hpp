#pragma once
// msgpack from untrusted bytes. msgpack-c allocates room for an array's items
// as soon as it reads the declared length; parse_untrusted refuses a value
// whose declared items add up to more than its bytes, or that nests deeper
// than allowed, before anything is allocated for the claim.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "cannery/canning/buffer.hpp"

namespace cannery::detail {

// Zones are pooled per thread: a fresh one costs a heap allocation.
struct ZoneReturn {
  void operator()(msgpack::zone* zone) const noexcept;
};
using PooledZone = std::unique_ptr<msgpack::zone, ZoneReturn>;
PooledZone take_pooled_zone();

// The one-byte empty map {}: most parent_header, metadata and content frames
// of requests, which callers answer without running the parser.
inline bool is_empty_map(const Buffer& bytes) noexcept {
  return bytes.size() == 1 && bytes.data()[0] == std::byte{0x80};
}

// Exactly one msgpack value; strings and bins point into `bytes`. Throws
// cannery::error (truncated_header, malformed_header, limit_exceeded) naming
// `what`.
msgpack::object parse_untrusted(const Buffer& bytes, std::size_t max_depth, msgpack::zone& zone,
                                std::string_view what);

// A key of a flat dict of strings, and where its value goes.
struct StringField {
  std::string_view key;
  std::string* value;
  bool found = false;
};

// Reads `bytes`, exactly one msgpack map with string keys, straight into
// the fields (no msgpack tree in between: a message header is read on every
// message's path). A key among `fields` must hold a string, copied into its
// target; other keys are skipped whatever they hold, nested up to
// `max_depth`. Returns the map's size. Throws cannery::error
// (malformed_header, truncated_header, limit_exceeded) naming `what`.
std::size_t read_string_fields(const Buffer& bytes, std::size_t max_depth,
                               std::span<StringField> fields, std::string_view what);

}  // namespace cannery::detail
