// ReplayHistory against a plain model (a deque in arrival order): the same
// answers for every signature, across many evictions and with probe runs that
// wrap around the table; also when every signature hashes alike.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <random>
#include <string>

#include <catch2/catch.hpp>

#include "cannery/messaging/replay_history.hpp"
#include "test_support.hpp"

namespace {

// A signature-like string: 64 lowercase hex characters, the first
// `fixed` of them '0'.
std::string signature(std::mt19937_64& random, std::size_t fixed) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(64, '0');
  for (std::size_t i = fixed; i < text.size(); ++i)
    text[i] = digits[random() % 16];
  return text;
}

TEST_CASE("the replay history answers as a bounded FIFO set", "[messaging][replay]") {
  // The history hashes the first 8 characters: with them fixed, every
  // signature shares one hash and one probe run, and only the full key
  // tells them apart.
  const std::size_t fixed = GENERATE(0u, 8u);
  for (const std::size_t capacity : {1u, 2u, 7u, 64u, 1000u}) {
    if (fixed > 0 && capacity > 64) continue;  // one run of 1000 is quadratic
    CAPTURE(fixed, capacity);
    cannery::ReplayHistory history(capacity);
    std::deque<std::string> model;
    std::mt19937_64 random(capacity);
    std::vector<std::string> seen;
    for (int step = 0; step < 20000; ++step) {
      // Half new signatures, half drawn from everything sent so far (some
      // still remembered, some long evicted).
      const bool fresh = seen.empty() || random() % 2 == 0;
      const std::string s = fresh ? signature(random, fixed) : seen[random() % seen.size()];
      if (fresh) seen.push_back(s);
      const bool expected = std::find(model.begin(), model.end(), s) == model.end();
      REQUIRE(history.remember(s) == expected);
      if (expected) {
        model.push_back(s);
        if (model.size() > capacity) model.pop_front();
      }
    }
  }
}

TEST_CASE("the replay history keys on the first 128 bits of the signature", "[messaging][replay]") {
  cannery::ReplayHistory history(16);
  const std::string a(64, 'a');
  std::string same_prefix = a;
  same_prefix.back() = 'b';
  CHECK(history.remember(a));
  CHECK_FALSE(history.remember(a));
  CHECK_FALSE(history.remember(same_prefix));
  CHECK(history.remember(std::string(31, 'a') + std::string(33, 'c')));
}

TEST_CASE("a replay history of 0 remembers nothing, and a short signature is refused",
          "[messaging][replay]") {
  cannery::ReplayHistory none(0);
  CHECK(none.remember("anything"));
  CHECK(none.remember("anything"));
  cannery::ReplayHistory history(4);
  auto e = cannery::test::capture_error([&] { history.remember("abc"); });
  CHECK(e.code() == cannery::errc::invalid_argument);
}

}  // namespace
