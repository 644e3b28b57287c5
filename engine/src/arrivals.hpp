#pragma once
// The relayed objects this engine is receiving, by ref: the work loop's
// thread adds one as its fetch begins and removes it once the object is in
// the cache (or the fetch failed); the data socket's thread serves the bytes
// that arrived meanwhile to the engines fetching from this one.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "cannery/messaging/arrival.hpp"

namespace cannery::detail {

class Arrivals {
 public:
  void add(std::uint64_t ref, std::shared_ptr<const Arrival> arrival) {
    std::lock_guard lock(mutex_);
    arrivals_[ref] = std::move(arrival);
  }
  void remove(std::uint64_t ref) {
    std::lock_guard lock(mutex_);
    arrivals_.erase(ref);
  }
  std::shared_ptr<const Arrival> find(std::uint64_t ref) const {
    std::lock_guard lock(mutex_);
    auto it = arrivals_.find(ref);
    return it == arrivals_.end() ? nullptr : it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<const Arrival>> arrivals_;
};

}  // namespace cannery::detail
