#pragma once
// Large arguments passed by value, put for the caller
// (ControllerOptions::auto_put_min_bytes): the refs made for them, found
// again by the memory the argument borrows, so that tasks given the same
// object share one copy on each engine. An entry lives as long as a task
// holds its ref: the last task to end releases the object.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/controller/object_ref.hpp"

namespace cannery::detail {

class AutoPuts {
 public:
  // Makes the ref of a new entry from the argument's frames.
  using Put = std::function<ObjectRef(std::vector<Buffer> frames)>;

  explicit AutoPuts(std::size_t min_bytes) : min_bytes_(min_bytes) {}

  // Whether one canned argument (header frame, then buffers) borrows at
  // least min_bytes of the caller's memory; if not, it travels with its task.
  bool borrows_enough(std::span<const Buffer> argument) const noexcept;
  // The ref standing for such an argument: the cached one when the same
  // memory was given before and a task still holds it, else a new one from
  // `put`.
  ObjectRef ref_for(std::span<const Buffer> argument, const Put& put);

  std::uint64_t puts() const noexcept { return puts_.load(std::memory_order_relaxed); }
  std::uint64_t reuses() const noexcept { return reuses_.load(std::memory_order_relaxed); }

 private:
  // What identifies a borrowed argument: its header's bytes (type, shapes,
  // scalars) and where its buffers are.
  struct Key {
    std::string header;
    std::vector<std::pair<std::uintptr_t, std::size_t>> buffers;
    auto operator<=>(const Key&) const = default;
  };

  const std::size_t min_bytes_;
  std::mutex mutex_;
  std::map<Key, std::weak_ptr<const RefHandle>> cached_;
  std::atomic<std::uint64_t> puts_{0}, reuses_{0};
};

}  // namespace cannery::detail
