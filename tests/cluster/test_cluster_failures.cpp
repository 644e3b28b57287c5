// Engines that die, engines that come back, controllers that come back, and
// many tasks: every task ends exactly once and nothing hangs.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <set>
#include <thread>

#include "cluster_fixture.hpp"

extern char** environ;

using namespace std::chrono_literals;
using cannery::test::Cluster;

namespace {

// Waits until the task has been handed to an engine; -1 when it was not.
int engine_running(const cannery::AsyncResult& task) {
  for (int i = 0; i < 500 && task.engine_id() < 0; ++i)
    std::this_thread::sleep_for(10ms);
  return task.engine_id();
}

int pid_of(const cannery::Controller& controller, int engine_id) {
  for (const auto& engine : controller.engines()) {
    if (engine.id == engine_id) return engine.pid;
  }
  return -1;
}

}  // namespace

TEST_CASE("a task on an engine killed with SIGKILL fails with EngineDied", "[cluster][failure]") {
  Cluster cluster(1);
  auto& controller = cluster.controller;
  auto task = controller.apply(cannery::any_engine, "sleep_ms", std::int64_t{20000});
  const int engine = engine_running(task);
  REQUIRE(engine >= 0);
  std::this_thread::sleep_for(200ms);  // the engine is now inside the function
  REQUIRE(::kill(pid_of(controller, engine), SIGKILL) == 0);
  // Detection takes heartbeat * allowed_misses (2 s by default): well within this.
  try {
    task.get<std::int64_t>(15s);
    FAIL("expected EngineDied");
  } catch (const cannery::EngineDied& e) {
    CHECK(e.engine_id() == engine);
    CHECK(e.code() == cannery::errc::engine_died);
  }
}

TEST_CASE("with retries, a task whose engine dies completes on another engine",
          "[cluster][failure]") {
  Cluster cluster(2);
  auto& controller = cluster.controller;
  cannery::ApplyOptions retry;
  retry.retries = 1;
  auto task = controller.apply_with(retry, cannery::any_engine, "sleep_ms", std::int64_t{1500});
  const int first = engine_running(task);
  REQUIRE(first >= 0);
  const int victim = pid_of(controller, first);
  std::this_thread::sleep_for(200ms);
  REQUIRE(::kill(victim, SIGKILL) == 0);
  const std::int64_t finished_on = task.get<std::int64_t>(30s);  // sleep_ms returns the pid
  CHECK(finished_on != victim);
  CHECK(finished_on > 0);
}

TEST_CASE("an engine registers again with a controller that restarted", "[cluster][failure]") {
  cannery::test::TempDir dir;
  cannery::ControllerOptions options;
  options.endpoint = "ipc://" + (dir.path() / "engines").string();
  options.key = "restart-test-key";
  options.connection_file = dir.path() / "connection.json";

  auto first = std::make_unique<cannery::Controller>(options);
  // An engine started by hand, as on another machine.
  const std::string program = CANNERY_ENGINE_PROGRAM;
  const std::string file = options.connection_file.string();
  char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>("--connection-file"),
                  const_cast<char*>(file.c_str()), nullptr};
  pid_t engine = 0;
  REQUIRE(::posix_spawn(&engine, program.c_str(), nullptr, nullptr, argv, environ) == 0);
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reaper{engine};

  first->wait_for_engines(1, cannery::test::engine_start_timeout);
  CHECK(first->apply(cannery::any_engine, "pid").get<std::int64_t>(30s) == engine);
  first.reset();  // the controller goes away; the engine was not its own child

  cannery::Controller second(options);
  second.wait_for_engines(1, cannery::test::engine_start_timeout);
  CHECK(second.engines().front().pid == engine);
  CHECK(second.apply(cannery::any_engine, "add", 1.0, 2.0).get<double>(30s) == 3.0);
}

TEST_CASE("100,000 small tasks over 4 engines: none lost, none duplicated", "[cluster][many]") {
  Cluster cluster(4);
  auto& controller = cluster.controller;
  constexpr std::int64_t tasks = 100000;
  std::vector<cannery::AsyncResult> results;
  results.reserve(tasks);
  for (std::int64_t i = 0; i < tasks; ++i) {
    results.push_back(controller.apply(cannery::any_engine, "echo", i));
  }
  std::vector<int> seen(tasks, 0);
  std::set<int> engines_used;
  for (std::int64_t i = 0; i < tasks; ++i) {
    const auto value = results[static_cast<std::size_t>(i)].get<std::int64_t>(120s);
    REQUIRE(value == i);
    ++seen[static_cast<std::size_t>(value)];
    engines_used.insert(results[static_cast<std::size_t>(i)].engine_id());
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
  CHECK(engines_used.size() == 4);
}

TEST_CASE("a local engine stops when the process that started it is killed", "[cluster][failure]") {
  cannery::test::TempDir dir;
  cannery::ControllerOptions options;
  options.connection_file = dir.path() / "connection.json";
  cannery::Controller controller(options);
  // A shell stands in for a controller process that dies by SIGKILL.
  const std::string command = std::string(CANNERY_ENGINE_PROGRAM) + " --connection-file " +
                              options.connection_file.string() + " --exit-with-parent & wait";
  char* argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>("-c"),
                  const_cast<char*>(command.c_str()), nullptr};
  pid_t shell = 0;
  REQUIRE(::posix_spawn(&shell, "/bin/sh", nullptr, nullptr, argv, environ) == 0);
  controller.wait_for_engines(1, cannery::test::engine_start_timeout);
  const int engine = controller.engines().front().pid;
  REQUIRE(::kill(shell, SIGKILL) == 0);
  ::waitpid(shell, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(engine, 0) != 0;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  CHECK(gone);
}
