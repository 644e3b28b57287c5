#include "cannery/messaging/refusals.hpp"

#include <algorithm>
#include <iostream>

#include "cannery/messaging/detail/hex.hpp"

namespace cannery {
namespace {

// Received text in a log line (an error's message may quote it): bounded.
constexpr std::size_t max_line_chars = 1000;
constexpr std::size_t max_peer_chars = 64;

std::string bounded(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return std::string(text.substr(0, limit)) + "... (" + std::to_string(text.size() - limit) +
         " more characters)";
}

bool printable(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) {
    return static_cast<unsigned char>(b) >= 0x20 && static_cast<unsigned char>(b) < 0x7f;
  });
}

}  // namespace

RefusalLog::RefusalLog(Sink sink, Clock::duration interval, std::size_t max_lines)
    : sink_(sink ? std::move(sink)
                 : Sink([](std::string_view line) { std::cerr << line << '\n'; })),
      interval_(interval),
      max_lines_(max_lines) {}

bool RefusalLog::take(Budget& budget, Clock::time_point now, std::string& note) {
  if (now - budget.start >= interval_) {
    if (budget.left_out != 0) {
      note = " [" + std::to_string(budget.left_out) +
             " lines like this were not logged before it: more than " + std::to_string(max_lines_) +
             " in " +
             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(interval_).count()) +
             " s]";
    }
    budget = Budget{now, 0, 0};
  }
  if (budget.used >= max_lines_) {
    ++budget.left_out;
    return false;
  }
  ++budget.used;
  return true;
}

void RefusalLog::record(const error& refusal, std::string_view peer) {
  std::string line;
  {
    std::lock_guard lock(mutex_);
    ++counts_[refusal.code()];
    total_.fetch_add(1, std::memory_order_relaxed);
    const auto now = Clock::now();
    const std::string label = bounded(peer, max_peer_chars);
    auto key = std::make_pair(label, refusal.code());
    auto it = peers_.find(key);
    if (it != peers_.end() && now - it->second.last_logged < interval_) {
      ++it->second.suppressed;
      return;
    }
    std::string note;
    if (!take(refusal_lines_, now, note)) return;
    if (it == peers_.end()) {
      if (peers_.size() >= max_peers) peers_.clear();
      it = peers_.emplace(std::move(key), PeerState{}).first;
    }
    line = "cannery: refused a message from " +
           (label.empty() ? std::string("a peer") : "peer " + label) + ": " +
           bounded(refusal.what(), max_line_chars);
    if (it->second.suppressed != 0) {
      line += " (" + std::to_string(it->second.suppressed) + " more like it not logged)";
    }
    line += note;
    it->second = PeerState{now, 0};
  }
  sink_(line);
}

void RefusalLog::warn(std::string_view text) {
  std::string line;
  {
    std::lock_guard lock(mutex_);
    std::string note;
    if (!take(warning_lines_, Clock::now(), note)) return;
    line = bounded(text, max_line_chars) + note;
  }
  sink_(line);
}

std::uint64_t RefusalLog::count(errc reason) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(reason);
  return it == counts_.end() ? 0 : it->second;
}

std::string peer_label(std::span<const Buffer> routing_ids) {
  std::string label;
  for (const Buffer& id : routing_ids) {
    if (!label.empty()) label += '/';
    const auto bytes = id.bytes().first(std::min<std::size_t>(id.size(), max_peer_chars / 2));
    label += printable(id.bytes()) ? std::string(id.as_string_view().substr(0, max_peer_chars))
                                   : "0x" + detail::hex(bytes);
    if (label.size() >= max_peer_chars) break;
  }
  if (label.size() > max_peer_chars) label.resize(max_peer_chars);
  if (routing_ids.size() > 1 || (routing_ids.size() == 1 && label.size() >= max_peer_chars)) {
    label += " (" + std::to_string(routing_ids.size()) + " routing frames)";
  }
  return label;
}

}  // namespace cannery
