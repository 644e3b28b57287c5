// The cannery-engine program: flags and exit status, the protocol version it
// prints and announces, and a run against a scripted controller ended by
// shutdown_request, SIGTERM or a refusal of its protocol version.

#include <unistd.h>
#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "engine_process.hpp"
#include "scripted_controller.hpp"

namespace {

using namespace cannery::test;

// A connection file in `dir` for `controller`; returns its path.
std::string connection_file_for(const ScriptedController& controller, const TempDir& dir) {
  const std::filesystem::path path = dir / "controller.json";
  cannery::write_connection_file(path, controller.connection());
  return path.string();
}

}  // namespace

TEST_CASE("cannery-engine: --help, usage errors and a missing connection file",
          "[engine][program]") {
  CHECK(Program({"--help"}).exit_status_within(10s) == 0);
  CHECK(Program({}).exit_status_within(10s) == 2);
  CHECK(Program({"--bogus"}).exit_status_within(10s) == 2);
  CHECK(Program({"--connection-file"}).exit_status_within(10s) == 2);
  CHECK(Program({"--connection-file", "x.json", "--heartbeat-ms", "0"}).exit_status_within(10s) ==
        2);
  CHECK(Program({"--connection-file", "/nonexistent/c.json"}).exit_status_within(10s) == 1);
}

TEST_CASE("cannery-engine serves a controller until shutdown_request or SIGTERM",
          "[engine][program]") {
  ScriptedController controller;
  TempDir dir;
  const bool by_signal = GENERATE(false, true);
  Program engine({"--connection-file", connection_file_for(controller, dir), "--plugin",
                  CANNERY_TEST_PLUGIN, "--heartbeat-ms", "100"});
  const proto::RegistrationRequest request = controller.register_engine().content;
  CHECK(request.pid == engine.pid());
  const std::vector<std::string>& functions = request.functions;
  CHECK(std::find(functions.begin(), functions.end(), "plugin_hello") != functions.end());

  auto reply = controller.apply("plugin_hello", std::string("engine"));
  CHECK(result_of<std::string>(reply) == "hello, engine");
  CHECK(result_of<std::int64_t>(controller.apply("pid")) == engine.pid());

  if (by_signal) {
    ::kill(engine.pid(), SIGTERM);
  } else {
    controller.send(proto::ShutdownRequest{});
  }
  CHECK(engine.exit_status_within(10s) == 0);
}

TEST_CASE("cannery-engine --version prints the protocol version it speaks", "[engine][program]") {
  TempDir dir;
  CHECK(Program({"--version"}, dir / "out.txt").exit_status_within(10s) == 0);
  CHECK(contents_of(dir / "out.txt").find("protocol 1.0") != std::string::npos);
}

TEST_CASE("cannery-engine --announce-protocol sets the version it registers with",
          "[engine][program]") {
  ScriptedController controller;
  TempDir dir;
  Program engine({"--connection-file", connection_file_for(controller, dir), "--heartbeat-ms",
                  "100", "--announce-protocol", "1.9"});
  CHECK(controller.register_engine().content.protocol == "1.9");
  controller.send(proto::ShutdownRequest{});
  CHECK(engine.exit_status_within(10s) == 0);
}

TEST_CASE("cannery-engine exits with status 1 when the controller refuses its protocol version",
          "[engine][program]") {
  ScriptedController controller;
  TempDir dir;
  Program engine(
      {"--connection-file", connection_file_for(controller, dir), "--heartbeat-ms", "100"},
      dir / "out.txt");
  REQUIRE(controller.expect<proto::RegistrationRequest>(10s));
  controller.send(proto::RegistrationRefused{.protocol = "2.0", .reason = "too old"});
  CHECK(engine.exit_status_within(10s) == 1);
  const std::string output = contents_of(dir / "out.txt");
  CHECK(output.find("protocol 2.0") != std::string::npos);
  CHECK(output.find("protocol 1.0") != std::string::npos);
}
