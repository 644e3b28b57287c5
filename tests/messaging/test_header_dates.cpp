// Header dates: a Session formats the calendar part once per second and
// keeps it, so its dates must still follow the clock across seconds.

#include <time.h>

#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <thread>

namespace {

// The current second as C's gmtime formats it: an independent reference.
// (Not from time(), which reads a coarser clock that lags by up to a tick.)
std::string utc_second_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  std::tm parts{};
  gmtime_r(&now.tv_sec, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  return text;
}

}  // namespace

TEST_CASE("a session's header dates follow the clock across second boundaries",
          "[messaging][session]") {
  cannery::SessionOptions options;
  options.key = "dates";
  cannery::Session session(options);
  const std::regex iso8601(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  std::string previous;
  int seconds_seen = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2100);
  while (std::chrono::steady_clock::now() < until) {
    // Dates are compared as text: the fixed-width form sorts as time does.
    const std::string before = utc_second_now();
    const std::string date = session.message("x").header.date;
    const std::string after = utc_second_now();
    REQUIRE(std::regex_match(date, iso8601));
    const std::string second = date.substr(0, 19);
    REQUIRE(before <= second);
    REQUIRE(second <= after);
    REQUIRE(previous <= date);
    if (previous.substr(0, 19) != second) ++seconds_seen;
    previous = date;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  CHECK(seconds_seen >= 3);  // two boundaries crossed in 2.1 s
}
