// The cannery-engine program: flags and exit status, and a run against a
// scripted controller ended by shutdown_request or SIGTERM.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <string>
#include <vector>

#include "scripted_controller.hpp"

extern char** environ;

namespace {

using namespace cannery::test;

// A child process running cannery-engine with `args`; output to /dev/null.
class Program {
 public:
  explicit Program(std::vector<std::string> args) {
    args.insert(args.begin(), CANNERY_ENGINE_PROGRAM);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    REQUIRE(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Program() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  // The exit status, or -1 if it did not exit within `timeout`.
  int exit_status_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

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
  cannery::write_connection_file(dir / "controller.json", controller.connection());
  const bool by_signal = GENERATE(false, true);
  Program engine({"--connection-file", (dir / "controller.json").string(), "--plugin",
                  CANNERY_TEST_PLUGIN, "--heartbeat-ms", "100"});
  auto request = controller.register_engine();
  CHECK(request.content.at(proto::pid).to_int64() == engine.pid());
  bool has_plugin = false;
  for (const auto& f : request.content.at(proto::functions).to_list())
    has_plugin = has_plugin || f.to_string() == "plugin_hello";
  CHECK(has_plugin);

  auto reply = controller.apply("plugin_hello", std::string("engine"));
  CHECK(result_of<std::string>(reply) == "hello, engine");
  CHECK(result_of<std::int64_t>(controller.apply("pid")) == engine.pid());

  if (by_signal) {
    ::kill(engine.pid(), SIGTERM);
  } else {
    controller.send(proto::shutdown_request);
  }
  CHECK(engine.exit_status_within(10s) == 0);
}
