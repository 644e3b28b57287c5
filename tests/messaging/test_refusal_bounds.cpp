// What a flood of bad messages may cost the receiver: oversized dicts are
// refused before they are hashed, log lines are bounded in number across all
// peers and in length, and peers are named by a bounded label.

#include <cannery/canning.hpp>
#include <cannery/messaging/refusals.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::errc;
using cannery::test::capture_error;

TEST_CASE("oversized message dicts are refused before anything is hashed", "[messaging][tamper]") {
  cannery::SessionOptions o;
  o.key = "the-key";
  cannery::Session receiver(o);
  o.key = "another-key";  // were it hashed, the signature would be found wrong
  cannery::Session sender(o);
  cannery::Message big =
      sender.message("work", cannery::Object::Dict{{"padding", std::string(4 << 20, 'x')}});
  const cannery::error e = capture_error([&] { receiver.deserialize(sender.serialize(big)); });
  CHECK(e.code() == errc::limit_exceeded);
  CHECK_THAT(e.what(), Catch::Contains("SessionOptions::max_envelope_bytes"));
  // Within the bound, the signature decides as before.
  cannery::Message small = sender.message("work", cannery::Object::Dict{{"x", 1}});
  CHECK(capture_error([&] { receiver.deserialize(sender.serialize(small)); }).code() ==
        errc::signature_mismatch);
}

TEST_CASE("refusals from many peers are logged a bounded number of times per interval",
          "[messaging][tamper]") {
  std::vector<std::string> lines;
  cannery::RefusalLog log([&](std::string_view line) { lines.emplace_back(line); },
                          std::chrono::hours(1), 20);
  const cannery::error bad(errc::signature_mismatch, "bad signature");
  // Every new connection is a new peer.
  for (int i = 0; i < 300; ++i)
    log.record(bad, "peer-" + std::to_string(i));
  CHECK(log.count(errc::signature_mismatch) == 300);
  CHECK(lines.size() == 20);
  // Other lines (deaths, warnings) have a budget of their own.
  for (int i = 0; i < 50; ++i)
    log.warn("engine " + std::to_string(i) + " is declared dead");
  CHECK(lines.size() == 40);

  // The first line of the next interval says how many were left out.
  lines.clear();
  cannery::RefusalLog quick([&](std::string_view line) { lines.emplace_back(line); }, 50ms, 2);
  for (int i = 0; i < 5; ++i)
    quick.record(bad, "peer-" + std::to_string(i));
  std::this_thread::sleep_for(60ms);
  quick.record(bad, "peer-next");
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines.back(), Catch::Contains("3 lines like this were not logged before it"));
}

TEST_CASE("log lines and peer labels are bounded in length", "[messaging][tamper]") {
  std::vector<std::string> lines;
  cannery::RefusalLog log([&](std::string_view line) { lines.emplace_back(line); });
  log.record(cannery::error(errc::malformed_message, "type '" + std::string(1 << 20, 'y') + "'"),
             std::string(1 << 20, 'p'));
  log.warn(std::string(1 << 20, 'w'));
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines)
    CHECK(line.size() < 1200);

  // Routing ids that are text are shown as text, others in hex; both short.
  const std::vector<cannery::Buffer> engine{cannery::Buffer::copy_of("engine-1f3c", 11)};
  CHECK(cannery::peer_label(engine) == "engine-1f3c");
  const std::vector<std::byte> binary(1 << 20, std::byte{0x01});
  const std::vector<cannery::Buffer> flood(1000,
                                           cannery::Buffer::copy_of(binary.data(), binary.size()));
  const std::string label = cannery::peer_label(flood);
  CHECK(label.size() < 100);
  CHECK_THAT(label, Catch::StartsWith("0x0101"));
  CHECK_THAT(label, Catch::Contains("(1000 routing frames)"));
}
