#include "cannery/engine/object_cache.hpp"

#include <utility>

namespace cannery {

void ObjectCache::put(std::uint64_t ref, std::vector<Buffer> frames) {
  const std::size_t bytes = total_size(frames);
  auto object = std::make_shared<const std::vector<Buffer>>(std::move(frames));
  std::lock_guard lock(mutex_);
  lost_.erase(ref);
  if (auto found = objects_.find(ref); found != objects_.end()) {
    bytes_ -= total_size(*found->second);
    found->second = std::move(object);
  } else {
    objects_.emplace(ref, std::move(object));
  }
  bytes_ += bytes;
}

bool ObjectCache::release(std::uint64_t ref) {
  std::lock_guard lock(mutex_);
  lost_.erase(ref);
  auto found = objects_.find(ref);
  if (found == objects_.end()) return false;
  bytes_ -= total_size(*found->second);
  objects_.erase(found);
  return true;
}

ObjectCache::Frames ObjectCache::find(std::uint64_t ref) const {
  std::lock_guard lock(mutex_);
  auto found = objects_.find(ref);
  return found == objects_.end() ? nullptr : found->second;
}

void ObjectCache::note_lost(std::uint64_t ref, std::string why) {
  std::lock_guard lock(mutex_);
  lost_.insert_or_assign(ref, std::move(why));
}

std::optional<std::string> ObjectCache::why_lost(std::uint64_t ref) const {
  std::lock_guard lock(mutex_);
  auto found = lost_.find(ref);
  return found == lost_.end() ? std::nullopt : std::optional<std::string>(found->second);
}

std::size_t ObjectCache::size() const {
  std::lock_guard lock(mutex_);
  return objects_.size();
}

std::size_t ObjectCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace cannery
