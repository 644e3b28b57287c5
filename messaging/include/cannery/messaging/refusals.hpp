#pragma once
// What happens to a refused message: it is counted per reason and logged at
// most once per peer and reason per interval (a flood of bad messages must
// not become a flood of log lines), and the socket loop keeps serving.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "cannery/canning/error.hpp"

namespace cannery {

class RefusalLog {
 public:
  using Sink = std::function<void(std::string_view line)>;
  using Clock = std::chrono::steady_clock;

  // Default sink: standard error.
  explicit RefusalLog(Sink sink = {}, Clock::duration interval = std::chrono::seconds(10));

  // Counts the refusal; logs it unless this peer's same reason was logged
  // less than `interval` ago (the next line then says how many were skipped).
  void record(const error& refusal, std::string_view peer);

  // A line that is not a refusal (e.g. a configuration warning).
  void warn(std::string_view line) { sink_(line); }

  std::uint64_t count(errc reason) const;
  std::uint64_t total() const;

 private:
  struct PeerState {
    Clock::time_point last_logged;
    std::uint64_t suppressed = 0;
  };
  // Bounds the per-peer memory when peers keep changing identities.
  static constexpr std::size_t max_peers = 1024;

  Sink sink_;
  Clock::duration interval_;
  mutable std::mutex mutex_;
  std::map<errc, std::uint64_t> counts_;
  std::map<std::pair<std::string, errc>, PeerState> peers_;
};

}  // namespace cannery
