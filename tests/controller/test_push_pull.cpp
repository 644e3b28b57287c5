// push and pull: named values in an engine's namespace.
#include <catch2/catch.hpp>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

TEST_CASE("push stores values on one engine, pull reads them back", "[controller]") {
  Cluster cluster(2);
  Controller& c = cluster.controller;
  auto pushed = c.push(0, {{"x", Object(5)}, {"name", Object("cannery")}});
  CHECK(pushed.get(5000ms).is_null());
  c.push(0, "v", ramp(3000)).get(5000ms);  // typed, an rvalue array: zero copy
  CHECK(c.pull(0, "x").get<int>(5000ms) == 5);
  CHECK(c.pull(0, "name").get<std::string>(5000ms) == "cannery");
  CHECK(c.pull(0, "v").get<std::vector<double>>(5000ms) == ramp(3000));
  // Engine 1 has none of it.
  auto missing = c.pull(1, "x");
  try {
    missing.get(5000ms);
    FAIL("expected RemoteError");
  } catch (const RemoteError& e) {
    CHECK(e.type() == "cannery.unknown_name");
    CHECK(e.code() == errc::unknown_name);
    CHECK(e.engine_id() == 1);
  }
  CHECK(capture_error([&] { c.pull(any_engine, "x"); }).code() == errc::invalid_argument);
}
