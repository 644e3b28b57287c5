// broadcast: one canning, the same frames to every engine.
#include <catch2/catch.hpp>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

TEST_CASE("broadcast runs once on every live engine", "[controller]") {
  Cluster cluster(3);
  auto results = cluster.controller.broadcast("whoami");
  REQUIRE(results.size() == 3);
  std::set<std::string> who;
  for (auto& r : results)
    who.insert(r.get<std::string>(5000ms));
  CHECK(who.size() == 3);
  for (std::size_t i = 0; i < 3; ++i)
    CHECK(results[i].engine_id() == static_cast<int>(i));
}

TEST_CASE("broadcast shares the argument's frames: zero copy per engine", "[controller]") {
  Cluster cluster(2);
  constexpr std::size_t n = 1 << 17;  // 1 MiB of doubles
  const std::uint64_t before_bytes = cluster.controller.bytes_sent();
  const std::uint64_t zero_copy_before = frame_stats().zero_copy_frames.load();
  const std::uint64_t copied_before = frame_stats().copied_bytes.load();

  auto results = cluster.controller.broadcast("nbytes", ramp(n));  // an rvalue: handed over
  for (auto& r : results)
    CHECK(r.get<std::int64_t>(5000ms) == static_cast<std::int64_t>(n * 8));

  const std::uint64_t sent = cluster.controller.bytes_sent() - before_bytes;
  CHECK(sent >= 2 * n * 8);             // the array went to both engines...
  CHECK(sent < 2 * n * 8 + 64 * 1024);  // ...once each
  // The controller handed the same 1 MiB frame to libzmq twice without a copy
  // (the process-wide counters also see the in-process engines' small replies).
  CHECK(frame_stats().zero_copy_frames.load() - zero_copy_before >= 2);
  CHECK(frame_stats().copied_bytes.load() - copied_before < n * 8);
}

TEST_CASE("broadcast with no engines gives no results", "[controller]") {
  Controller controller(fast_options());
  CHECK(controller.broadcast("whoami").empty());
}
