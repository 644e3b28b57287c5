#pragma once
// Objects the controller placed on an engine ahead of time (put_request), kept
// as the frames that arrived: nothing is uncanned or copied until a call uses
// them. An argument ["cannery.ref", id] stands for the frames cached under id.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "cannery/canning/buffer.hpp"

namespace cannery {

class ObjectCache {
 public:
  // Shared so that a call in progress keeps the frames it reads alive.
  using Frames = std::shared_ptr<const std::vector<Buffer>>;

  // Stores (or replaces) the frames of one object under `ref`.
  void put(std::uint64_t ref, std::vector<Buffer> frames);
  // Drops `ref`; false when nothing was stored under it.
  bool release(std::uint64_t ref);
  // Null when nothing is stored under `ref`.
  Frames find(std::uint64_t ref) const;

  std::size_t size() const noexcept { return objects_.size(); }
  // Bytes held in all cached frames.
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::map<std::uint64_t, Frames> objects_;
  std::size_t bytes_ = 0;
};

}  // namespace cannery
