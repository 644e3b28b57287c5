// Where the heart socket binds by default, and where an engine connects it.
#include <catch2/catch.hpp>

#include <cannery/messaging/heart.hpp>

#include "test_support.hpp"

using namespace cannery;
using cannery::test::capture_error;

TEST_CASE("the heart binds beside the engines' socket", "[messaging][heart]") {
  CHECK(default_heart_bind_address("tcp://127.0.0.1:40123") == "tcp://127.0.0.1:*");
  CHECK(default_heart_bind_address("tcp://0.0.0.0:5555") == "tcp://0.0.0.0:*");
  CHECK(default_heart_bind_address("tcp://[::1]:5555") == "tcp://[::1]:*");
  CHECK(default_heart_bind_address("ipc:///run/x/engines") == "ipc:///run/x/engines-heartbeat");
  const error e = capture_error([] { default_heart_bind_address("inproc://engines"); });
  CHECK(e.code() == errc::invalid_argument);
  CHECK_THAT(e.what(), Catch::Contains("ControllerOptions::heartbeat_endpoint"));
}

TEST_CASE("an engine connects its heart to the host it reached the controller at",
          "[messaging][heart]") {
  // A controller bound to 0.0.0.0 cannot say which address reaches it.
  CHECK(heart_connect_endpoint("tcp://head-node:5555", "tcp://0.0.0.0:41000") ==
        "tcp://head-node:41000");
  CHECK(heart_connect_endpoint("tcp://10.0.0.5:5555", "tcp://127.0.0.1:41000") ==
        "tcp://10.0.0.5:41000");
  CHECK(heart_connect_endpoint("tcp://[fd00::5]:5555", "tcp://[::]:41000") ==
        "tcp://[fd00::5]:41000");
  CHECK(heart_connect_endpoint("ipc:///run/x/engines", "ipc:///run/x/engines-heartbeat") ==
        "ipc:///run/x/engines-heartbeat");
  for (const char* bad : {"udp://127.0.0.1:9", "tcp://127.0.0.1", "tcp://127.0.0.1:", "ipc://",
                          "tcp://h:123456", "tcp://h:12a", ""}) {
    INFO(bad);
    const error e = capture_error([&] { heart_connect_endpoint("tcp://h:5555", bad); });
    CHECK(e.code() == errc::malformed_message);
  }
  // tcp from a controller reached over ipc names no host to use.
  CHECK(capture_error([] {
          heart_connect_endpoint("ipc:///run/x/engines", "tcp://0.0.0.0:41000");
        }).code() == errc::malformed_message);
}
