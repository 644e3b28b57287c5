#pragma once
// Plain msgpack for Objects of JSON-like kinds (null, bool, int, float,
// string, bytes, list, dict): no cannery header and no tags, as other
// msgpack users (jupyter_client's Session) read and write it. Used for the
// dicts of a message envelope; arrays belong in canned buffers instead.

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/canning/options.hpp"

namespace cannery {

// Throws invalid_argument for kinds plain msgpack cannot hold (ndarray,
// complex, extension values).
Buffer pack_plain(const Object& value);

// Parses untrusted bytes with the same checks as a header frame; strings are
// copied, bytes stay views of `bytes`.
Object unpack_plain(const Buffer& bytes, const Limits& limits = {});

}  // namespace cannery
