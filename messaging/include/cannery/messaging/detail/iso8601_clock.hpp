#pragma once
// The current time as every message header carries it: ISO 8601, UTC,
// microseconds ("2026-11-21T09:10:00.123456Z"). A clock formats the calendar
// part once per second and keeps it, so most calls write only the
// microseconds: a Session makes a header for every message it sends.

#include <array>
#include <cstdint>
#include <limits>
#include <string>

namespace cannery::detail {

class Iso8601Clock {
 public:
  std::string now();

 private:
  std::int64_t second_ = std::numeric_limits<std::int64_t>::min();  // what text_ holds
  std::array<char, 27> text_{};
};

}  // namespace cannery::detail
