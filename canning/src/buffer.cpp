#include "cannery/canning/buffer.hpp"

#include <string>

#include "cannery/canning/error.hpp"

namespace cannery {

Buffer Buffer::copy_of(const void* data, std::size_t size) {
  return allocate(size, [&](std::byte* out) {
    if (size != 0) std::memcpy(out, data, size);
  });
}

Buffer Buffer::slice(std::size_t offset, std::size_t size) const {
  if (offset > size_ || size > size_ - offset) {
    throw error(errc::shape_mismatch, "slice [" + std::to_string(offset) + ", +" +
                                          std::to_string(size) + ") lies outside a buffer of " +
                                          std::to_string(size_) + " bytes");
  }
  return {data_ + offset, size, owner_};
}

}  // namespace cannery
