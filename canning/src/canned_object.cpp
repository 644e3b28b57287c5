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
  std::move(*this).append_to(out);
  return out;
}

void CannedObject::append_to(std::vector<Buffer>& message) const& {
  message.push_back(header);
  message.insert(message.end(), buffers.begin(), buffers.end());
}

void CannedObject::append_to(std::vector<Buffer>& message) && {
  message.push_back(std::move(header));
  message.insert(message.end(), std::make_move_iterator(buffers.begin()),
                 std::make_move_iterator(buffers.end()));
}

}  // namespace cannery
