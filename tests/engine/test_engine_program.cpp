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
  CHECK(Program({"--connection-file", "x.json", "--work-nice", "20"}).exit_status_within(10s) == 2);
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
  CHECK(contents_of(dir / "out.txt").find("protocol 1.4") != std::string::npos);
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
  CHECK(output.find("protocol 1.4") != std::string::npos);
}

TEST_CASE("cannery-engine reads its connection info from CANNERY_CONNECTION_INFO",
          "[engine][program]") {
  ScriptedController controller;
  TempDir dir;
  Program engine(
      {"--heartbeat-ms", "100"}, dir / "out.txt",
      {"CANNERY_CONNECTION_INFO=" + cannery::connection_info_json(controller.connection()),
       "OMPI_COMM_WORLD_RANK=5"});
  const proto::RegistrationRequest request = controller.register_engine().content;
  CHECK(request.pid == engine.pid());
  CHECK(request.rank == 5);  // as mpiexec would have started it
  controller.send(proto::ShutdownRequest{});
  CHECK(engine.exit_status_within(10s) == 0);

  // Neither a file nor the variable: a usage error that names both.
  Program neither({}, dir / "neither.txt");
  CHECK(neither.exit_status_within(10s) == 2);
  CHECK(contents_of(dir / "neither.txt").find("CANNERY_CONNECTION_INFO") != std::string::npos);
  // The variable, but not a connection file's text.
  Program garbled({}, dir / "garbled.txt", {"CANNERY_CONNECTION_INFO={\"endpoints\": 5}"});
  CHECK(garbled.exit_status_within(10s) == 1);
  CHECK(contents_of(dir / "garbled.txt").find("environment variable CANNERY_CONNECTION_INFO") !=
        std::string::npos);
  // A rank variable that holds no rank.
  Program bad_rank(
      {}, dir / "rank.txt",
      {"CANNERY_CONNECTION_INFO=" + cannery::connection_info_json(controller.connection()),
       "PMI_RANK=first"});
  CHECK(bad_rank.exit_status_within(10s) == 1);
  CHECK(contents_of(dir / "rank.txt").find("PMI_RANK is 'first'") != std::string::npos);
}

TEST_CASE("cannery-engine that reaches no controller says where it tried and exits 1",
          "[engine][program]") {
  TempDir dir;
  // An ipc endpoint nobody binds: nothing answers the registration.
  cannery::ConnectionInfo nowhere;
  nowhere.endpoints["engines"] = "ipc://" + (dir / "nobody-here").string();
  nowhere.key = cannery::generate_key();
  const std::string file = (dir / "controller.json").string();
  cannery::write_connection_file(file, nowhere);
  Program engine({"--connection-file", file, "--heartbeat-ms", "100", "--register-timeout", "1"},
                 dir / "out.txt");
  CHECK(engine.exit_status_within(20s) == 1);
  const std::string output = contents_of(dir / "out.txt");
  INFO(output);
  CHECK(output.find("no registration_reply from the controller at " +
                    nowhere.endpoints["engines"]) != std::string::npos);
  CHECK(output.find("reachable from its own host only") != std::string::npos);
  CHECK(
      Program({"--connection-file", file, "--register-timeout", "soon"}).exit_status_within(10s) ==
      2);
}
