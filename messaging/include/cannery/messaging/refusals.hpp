#pragma once
// What happens to a refused message: it is counted per reason, and logged at
// most once per peer and reason per interval, and at most `max_lines` times
// per interval whoever the peers are (every new connection is a new peer: a
// flood of peers must not become a flood of lines either). The socket loop
// keeps serving. Lines are bounded in length, peers named by a bounded label.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/error.hpp"

namespace cannery {

class RefusalLog {
 public:
  using Sink = std::function<void(std::string_view line)>;
  using Clock = std::chrono::steady_clock;

  // Default sink: standard error.
  explicit RefusalLog(Sink sink = {}, Clock::duration interval = std::chrono::seconds(10),
                      std::size_t max_lines = 20);

  // Counts the refusal; logs it unless this peer's same reason was logged
  // less than `interval` ago (the next line then says how many were skipped)
  // or `max_lines` refusals were logged in this interval already (the first
  // line of the next one says how many were left out).
  void record(const error& refusal, std::string_view peer);

  // A line that is not a refusal (an engine declared dead, a configuration
  // warning), under a budget of `max_lines` per interval of its own.
  void warn(std::string_view line);

  std::uint64_t count(errc reason) const;
  // Lock-free: read on the hot path.
  std::uint64_t total() const noexcept { return total_.load(std::memory_order_relaxed); }

 private:
  struct PeerState {
    Clock::time_point last_logged;
    std::uint64_t suppressed = 0;
  };
  // Lines of one kind in the current interval.
  struct Budget {
    Clock::time_point start{};
    std::size_t used = 0;
    std::uint64_t left_out = 0;
  };
  // Whether a line fits in `budget` now; `note` gets what the line should
  // say about lines left out before it. Called with the mutex held.
  bool take(Budget& budget, Clock::time_point now, std::string& note);

  // Bounds the per-peer memory when peers keep changing identities.
  static constexpr std::size_t max_peers = 1024;

  Sink sink_;
  Clock::duration interval_;
  std::size_t max_lines_;
  mutable std::mutex mutex_;
  std::map<errc, std::uint64_t> counts_;
  std::atomic<std::uint64_t> total_{0};
  std::map<std::pair<std::string, errc>, PeerState> peers_;
  Budget refusal_lines_, warning_lines_;
};

// A peer's routing ids for a log line: as text when they are printable ASCII
// ("engine-1f3c..."), else in hex; at most about 64 characters, however many
// and however long the frames are.
std::string peer_label(std::span<const Buffer> routing_ids);

}  // namespace cannery
