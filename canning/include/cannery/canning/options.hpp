#pragma once
// Knobs for the sending side (SerializeOptions) and bounds for the receiving
// side (Limits). Defaults suit messages of up to a few GB of arrays.

#include <cstddef>

namespace cannery {

struct SerializeOptions {
  // Buffers of at most this many bytes are copied into the header frame;
  // larger ones travel as frames of their own, uncopied (IPython's default).
  std::size_t buffer_threshold = 1024;
  // Deepest nesting of containers the writer follows before it refuses.
  std::size_t max_depth = 64;
};

struct Limits {
  // Deepest nesting of containers in a received header.
  std::size_t max_depth = 64;
  // Most buffer frames one object may claim.
  std::size_t max_buffers = 65536;
  // Largest header frame accepted (inlined buffers count here).
  std::size_t max_header_bytes = std::size_t{64} << 20;
};

}  // namespace cannery
