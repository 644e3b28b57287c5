#include "cannery/controller/detail/submission.hpp"

namespace cannery::detail {

std::vector<Buffer> owned_frames(std::vector<Buffer> frames) {
  for (Buffer& frame : frames)
    frame = frame.owned();
  return frames;
}

std::optional<std::chrono::steady_clock::time_point> deadline_after(
    const std::optional<std::chrono::milliseconds>& timeout) {
  if (!timeout) return std::nullopt;
  return std::chrono::steady_clock::now() + *timeout;
}

}  // namespace cannery::detail
