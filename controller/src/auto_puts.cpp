#include "auto_puts.hpp"

#include <iterator>

namespace cannery::detail {

bool AutoPuts::borrows_enough(std::span<const Buffer> argument) const noexcept {
  if (min_bytes_ == 0 || argument.size() < 2) return false;
  std::size_t borrowed = 0;
  for (const Buffer& frame : argument.subspan(1))
    borrowed += frame.is_borrowed() ? frame.size() : 0;
  return borrowed >= min_bytes_;
}

ObjectRef AutoPuts::ref_for(std::span<const Buffer> argument, const Put& put) {
  Key key{std::string(argument.front().as_string_view()), {}};
  key.buffers.reserve(argument.size() - 1);
  for (const Buffer& frame : argument.subspan(1))
    key.buffers.emplace_back(reinterpret_cast<std::uintptr_t>(frame.data()), frame.size());

  // Held across put(), which writes the object to shared memory: two threads
  // giving the same object at once then make one entry, not two.
  std::lock_guard lock(mutex_);
  if (auto found = cached_.find(key); found != cached_.end()) {
    if (auto handle = found->second.lock()) {
      reuses_.fetch_add(1, std::memory_order_relaxed);
      return ObjectRef(std::move(handle));
    }
  }
  std::erase_if(cached_, [](const auto& entry) { return entry.second.expired(); });
  ObjectRef ref = put(std::vector<Buffer>(argument.begin(), argument.end()));
  cached_.insert_or_assign(std::move(key), ref.handle_);
  puts_.fetch_add(1, std::memory_order_relaxed);
  return ref;
}

}  // namespace cannery::detail
