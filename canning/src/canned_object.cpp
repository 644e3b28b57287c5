#include "cannery/canning/serialize.hpp"

namespace cannery {

std::vector<Buffer> CannedObject::frames() const& {
  std::vector<Buffer> out;
  out.reserve(frame_count());
  append_to(out);
  return out;
}

std::vector<Buffer> CannedObject::frames() && {
  std::vector<Buffer> out;
  out.reserve(frame_count());
  out.push_back(std::move(header));
  for (auto& b : buffers)
    out.push_back(std::move(b));
  return out;
}

void CannedObject::append_to(std::vector<Buffer>& message) const {
  message.push_back(header);
  message.insert(message.end(), buffers.begin(), buffers.end());
}

}  // namespace cannery
