#include "cannery/engine/object_cache.hpp"

#include <utility>

namespace cannery {

namespace {

std::size_t bytes_of(const std::vector<Buffer>& frames) {
  std::size_t total = 0;
  for (const Buffer& b : frames)
    total += b.size();
  return total;
}

}  // namespace

void ObjectCache::put(std::uint64_t ref, std::vector<Buffer> frames) {
  release(ref);
  bytes_ += bytes_of(frames);
  objects_.emplace(ref, std::make_shared<const std::vector<Buffer>>(std::move(frames)));
}

bool ObjectCache::release(std::uint64_t ref) {
  auto found = objects_.find(ref);
  if (found == objects_.end()) return false;
  bytes_ -= bytes_of(*found->second);
  objects_.erase(found);
  return true;
}

ObjectCache::Frames ObjectCache::find(std::uint64_t ref) const {
  auto found = objects_.find(ref);
  return found == objects_.end() ? nullptr : found->second;
}

}  // namespace cannery
