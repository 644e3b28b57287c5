#pragma once
// The shared memory segment engine_request offers to its inputs, and what
// make_corpus needs to name it in seeds.
//
// Segment names are random (/cannery-<namespace>-<pid>-<random>), so an input
// cannot name the harness's segment itself: a descriptor names it by
// `segment_marker`, a string the harness replaces with the real name wherever
// it occurs in the received content (the marker is no valid segment name, so a
// descriptor that still holds it is refused as any foreign name is). The
// segment holds `segment_frames()` as SharedSegment::store writes them with
// `segment_min_frame`: one frame, the 1040 bytes of 130 doubles, at offset 0
// of a 1040-byte segment. make_corpus stores the same frames to learn that
// placement rather than assuming it.

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "cannery/canning.hpp"

namespace cannery::fuzz {

inline constexpr std::string_view segment_marker = "FUZZ_SEGMENT";
inline constexpr std::size_t segment_min_frame = 1024;

// A canned std::vector<double> of 0.5, 1.5, ... 129.5: a header frame and a
// 1040-byte data frame (beyond the 1024-byte inlining threshold).
inline std::vector<Buffer> segment_frames() {
  std::vector<double> values(130);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = 0.5 + static_cast<double>(i);
  return serialize_object(std::move(values));  // moved: the frames own the values
}

}  // namespace cannery::fuzz
