#include "cannery/messaging/refusals.hpp"

#include <iostream>

namespace cannery {

RefusalLog::RefusalLog(Sink sink, Clock::duration interval)
    : sink_(sink ? std::move(sink)
                 : Sink([](std::string_view line) { std::cerr << line << '\n'; })),
      interval_(interval) {}

void RefusalLog::record(const error& refusal, std::string_view peer) {
  std::string line;
  {
    std::lock_guard lock(mutex_);
    ++counts_[refusal.code()];
    const auto now = Clock::now();
    auto key = std::make_pair(std::string(peer), refusal.code());
    auto it = peers_.find(key);
    if (it != peers_.end() && now - it->second.last_logged < interval_) {
      ++it->second.suppressed;
      return;
    }
    if (it == peers_.end()) {
      if (peers_.size() >= max_peers) peers_.clear();
      it = peers_.emplace(std::move(key), PeerState{}).first;
    }
    line = "cannery: refused a message from " +
           (peer.empty() ? std::string("a peer") : "peer " + std::string(peer)) + ": " +
           refusal.what();
    if (it->second.suppressed != 0) {
      line += " (" + std::to_string(it->second.suppressed) + " more like it not logged)";
    }
    it->second = PeerState{now, 0};
  }
  sink_(line);
}

std::uint64_t RefusalLog::count(errc reason) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(reason);
  return it == counts_.end() ? 0 : it->second;
}

std::uint64_t RefusalLog::total() const {
  std::lock_guard lock(mutex_);
  std::uint64_t sum = 0;
  for (const auto& [code, n] : counts_)
    sum += n;
  return sum;
}

}  // namespace cannery
