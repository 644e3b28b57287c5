#pragma once
// msgpack from untrusted bytes. msgpack-c allocates room for an array's items
// as soon as it reads the declared length; parse_untrusted refuses a value
// whose declared items add up to more than its bytes, or that nests deeper
// than allowed, before anything is allocated for the claim.

#include <memory>
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

}  // namespace cannery::detail
