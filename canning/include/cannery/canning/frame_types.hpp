#pragma once
// What each frame of a message of canned objects carries, for a sender that
// treats frames by their content: messaging's compression groups the bytes
// of an array by its item size, and its `auto` mode learns per dtype whether
// compressing pays (docs/messaging.md, "Compression").

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "cannery/canning/buffer.hpp"

namespace cannery {

struct FrameType {
  // An array's dtype ("<f8", "|u1", "|V12", ...) for the frame holding its
  // data; "bytes" for out-of-band bytes; "header" for a header frame; empty
  // when the frame is none of these (not a canned object's, or unreferenced).
  std::string dtype;
  // Bytes per element: what a byte shuffle groups by (1 unless an array).
  std::size_t item_size = 1;
};

// One entry per frame of `frames`, read from the objects' headers. The
// frames of an object whose header does not parse, and every frame after
// it, are of unknown type: this describes, it never refuses.
std::vector<FrameType> frame_types(std::span<const Buffer> frames);

}  // namespace cannery
