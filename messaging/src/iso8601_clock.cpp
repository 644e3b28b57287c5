#include "cannery/messaging/detail/iso8601_clock.hpp"

#include <chrono>
#include <cstddef>

namespace cannery::detail {
namespace {

// `value` as exactly `width` decimal digits, zero-padded.
char* put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// Where the six digits of the microseconds go: after "2026-11-21T09:10:00.".
constexpr std::size_t microseconds_at = 20;

}  // namespace

// Calendar arithmetic and digits, without gmtime_r (which takes the time
// zone lock) or snprintf.
std::string Iso8601Clock::now() {
  using namespace std::chrono;
  const auto now = floor<microseconds>(system_clock::now());
  const auto second = floor<seconds>(now);
  if (second.time_since_epoch().count() != second_) {
    const auto day = floor<days>(second);
    const year_month_day date{day};
    const hh_mm_ss time{second - day};
    // system_clock counts nanoseconds in 64 bits: its years have four digits.
    char* out = put_digits(text_.data(), static_cast<unsigned>(static_cast<int>(date.year())), 4);
    *out++ = '-';
    out = put_digits(out, static_cast<unsigned>(date.month()), 2);
    *out++ = '-';
    out = put_digits(out, static_cast<unsigned>(date.day()), 2);
    *out++ = 'T';
    out = put_digits(out, static_cast<unsigned>(time.hours().count()), 2);
    *out++ = ':';
    out = put_digits(out, static_cast<unsigned>(time.minutes().count()), 2);
    *out++ = ':';
    out = put_digits(out, static_cast<unsigned>(time.seconds().count()), 2);
    *out++ = '.';
    text_.back() = 'Z';
    second_ = second.time_since_epoch().count();
  }
  put_digits(text_.data() + microseconds_at, static_cast<unsigned>((now - second).count()), 6);
  return std::string(text_.data(), text_.size());
}

}  // namespace cannery::detail
