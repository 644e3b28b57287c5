#pragma once
// Objects the controller placed on an engine ahead of time (put_request),
// results kept on it (apply_request.keep_as) and objects fetched from other
// engines (fetch_request), kept as frames: nothing is uncanned or copied
// until a call uses them. An argument ["cannery.ref", id] stands for the
// frames cached under id. Thread-safe: the engine's data socket serves them
// from a thread of its own.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
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
  // Notes why the object of `ref` could not be had (a failed fetch), for the
  // calls that name it; put() forgets it.
  void note_lost(std::uint64_t ref, std::string why);
  std::optional<std::string> why_lost(std::uint64_t ref) const;

  std::size_t size() const;
  // Bytes held in all cached frames.
  std::size_t bytes() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, Frames> objects_;
  std::map<std::uint64_t, std::string> lost_;
  std::size_t bytes_ = 0;
};

}  // namespace cannery
