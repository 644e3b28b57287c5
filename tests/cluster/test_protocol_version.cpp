// A real cannery-engine of another major protocol version meets a real
// controller: both refuse, and both say which versions met and what to do.

#include <mutex>
#include <string>
#include <vector>

#include <cannery/messaging/protocol.hpp>

#include "cluster_fixture.hpp"
#include "engine_process.hpp"

using namespace cannery;
using namespace cannery::test;

namespace {

// Log lines of a controller, readable from the test thread.
struct ControllerLog {
  std::mutex mutex;
  std::string text;
  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      text.append(line).append("\n");
    };
  }
  std::string read() {
    std::lock_guard lock(mutex);
    return text;
  }
};

}  // namespace

TEST_CASE("an engine of another major protocol version is refused and both sides name the versions",
          "[cluster][version]") {
  ControllerLog log;
  ControllerOptions options;
  options.log_sink = log.sink();
  Controller controller(options);
  TempDir dir;
  const auto output = dir / "engine.log";
  Program engine(
      {"--connection-file", controller.connection_file().string(), "--announce-protocol", "2.0"},
      output);
  // It stops by itself, with the error status.
  CHECK(engine.exit_status_within(engine_start_timeout) == 1);
  const std::string ours = protocol::to_string(protocol::version);
  const std::string said = contents_of(output);
  CHECK_THAT(said, Catch::Contains("protocol 2.0") && Catch::Contains("protocol " + ours) &&
                       Catch::Contains("refused"));
  CHECK_THAT(log.read(), Catch::Contains("protocol 2.0") && Catch::Contains("protocol " + ours) &&
                             Catch::Contains("major versions differ"));
  CHECK(controller.engines().empty());
  CHECK(controller.stats().messages_refused >= 1);
}

TEST_CASE("an engine of a newer minor protocol version works with this controller",
          "[cluster][version]") {
  Controller controller;
  TempDir dir;
  const std::string newer =
      std::to_string(protocol::version.major) + "." + std::to_string(protocol::version.minor + 7);
  Program engine(
      {"--connection-file", controller.connection_file().string(), "--announce-protocol", newer},
      dir / "engine.log");
  controller.wait_for_engines(1, engine_start_timeout);
  CHECK(controller.apply(any_engine, "add", 1.0, 2.0).get<double>(30s) == 3.0);
  controller.shutdown_engines();
  CHECK(engine.exit_status_within(engine_start_timeout) == 0);
}
