// spawn_local_engines with stand-in programs: arguments, environment lookup,
// and shutdown (shutdown_request, SIGTERM, SIGKILL, reaping).
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

namespace {

// A shell script that records its arguments in <dir>/args.<pid>, then runs `tail`.
std::filesystem::path write_script(const TempDir& dir, const std::string& name,
                                   const std::string& tail) {
  const auto path = dir / name;
  std::ofstream(path) << "#!/bin/sh\necho \"$@\" > " << dir.path().string() << "/args.$$\n"
                      << tail << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

EngineSpawnOptions program(const std::filesystem::path& p) {
  EngineSpawnOptions o;
  o.program = p;
  return o;
}

bool process_gone(int pid) {
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

TEST_CASE("spawned engines get the connection file, plugins and extra arguments", "[controller]") {
  TempDir dir;
  const auto script = write_script(dir, "engine.sh", "exec sleep 30");
  std::vector<int> pids;
  std::string file;
  {
    ControllerOptions o = fast_options();
    o.shutdown_grace = 100ms;
    Controller controller(o);
    file = controller.connection_file().string();
    EngineSpawnOptions spawn;
    spawn.program = script;
    spawn.plugins = {"/opt/a.so", "/opt/b.so"};
    spawn.extra_args = {"--verbose"};
    spawn.work_nice = 5;
    controller.spawn_local_engines(2, spawn);
    pids = controller.spawned_pids();
    REQUIRE(pids.size() == 2);
    for (int pid : pids) {
      const auto args = dir / ("args." + std::to_string(pid));
      REQUIRE(
          wait_until([&] { return std::filesystem::exists(args) && !read_text(args).empty(); }));
      CHECK(read_text(args) ==
            "--connection-file " + file +
                " --exit-with-parent --work-nice 5 --plugin /opt/a.so --plugin /opt/b.so "
                "--verbose\n");
    }
  }
  // sleep ignores shutdown_request: SIGTERM ended it, and it was reaped.
  for (int pid : pids)
    CHECK(process_gone(pid));
}

TEST_CASE("local engines run their work at nice 19 once they outnumber the CPUs, or as set",
          "[controller]") {
  TempDir dir;
  const auto script = write_script(dir, "engine.sh", "exec sleep 30");
  ControllerOptions o = fast_options();
  o.shutdown_grace = 100ms;
  Controller controller(o);
  auto arguments_of = [&](int pid) {
    const auto args = dir / ("args." + std::to_string(pid));
    REQUIRE(wait_until([&] { return std::filesystem::exists(args) && !read_text(args).empty(); }));
    return read_text(args);
  };
  const std::string plain =
      "--connection-file " + controller.connection_file().string() + " --exit-with-parent\n";
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  REQUIRE(::sched_getaffinity(0, sizeof cpus, &cpus) == 0);
  const auto cpu_count = static_cast<std::size_t>(CPU_COUNT(&cpus));

  // As many engines as CPUs: each has one.
  controller.spawn_local_engines(cpu_count, program(script));
  // One more, while those run: they take turns, and the new one yields.
  controller.spawn_local_engines(1, program(script));
  // Set: as given, oversubscribed or not.
  EngineSpawnOptions off = program(script);
  off.work_nice = 0;
  controller.spawn_local_engines(1, off);
  const std::vector<int> pids = controller.spawned_pids();
  REQUIRE(pids.size() == cpu_count + 2);
  for (std::size_t i = 0; i < cpu_count; ++i)
    CHECK(arguments_of(pids[i]) == plain);
  CHECK(arguments_of(pids[cpu_count]) == "--connection-file " +
                                             controller.connection_file().string() +
                                             " --exit-with-parent --work-nice 19\n");
  CHECK(arguments_of(pids[cpu_count + 1]) == plain);

  for (int out_of_range : {-1, 20}) {
    EngineSpawnOptions wrong = program(script);
    wrong.work_nice = out_of_range;
    auto e = capture_error([&] { controller.spawn_local_engines(1, wrong); });
    CHECK(e.code() == errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains("work_nice is " + std::to_string(out_of_range)));
  }
  CHECK(controller.spawned_pids().size() == cpu_count + 2);
}

TEST_CASE("an engine that ignores SIGTERM is killed and reaped", "[controller]") {
  TempDir dir;
  const auto script = write_script(dir, "stubborn.sh", "trap '' TERM\nexec sleep 30");
  std::vector<int> pids;
  const auto start = std::chrono::steady_clock::now();
  {
    ControllerOptions o = fast_options();
    o.shutdown_grace = 100ms;
    Controller controller(o);
    controller.spawn_local_engines(1, program(script));
    pids = controller.spawned_pids();
    REQUIRE(wait_until(
        [&] { return std::filesystem::exists(dir / ("args." + std::to_string(pids[0]))); }));
  }
  CHECK(process_gone(pids.at(0)));
  CHECK(std::chrono::steady_clock::now() - start < 5000ms);
}

TEST_CASE("the engine program comes from $CANNERY_ENGINE when not given", "[controller]") {
  TempDir dir;
  const auto script = write_script(dir, "from_env.sh", "exit 0");
  ::setenv("CANNERY_ENGINE", script.c_str(), 1);
  {
    Controller controller(fast_options());
    controller.spawn_local_engines(1);
    const int pid = controller.spawned_pids().at(0);
    CHECK(
        wait_until([&] { return std::filesystem::exists(dir / ("args." + std::to_string(pid))); }));
  }
  ::unsetenv("CANNERY_ENGINE");
}

TEST_CASE("a program that cannot be started is an io_error naming it", "[controller]") {
  Controller controller(fast_options());
  auto e = capture_error(
      [&] { controller.spawn_local_engines(1, program("/nonexistent/cannery-engine")); });
  CHECK(e.code() == errc::io_error);
  CHECK_THAT(e.what(), Catch::Contains("/nonexistent/cannery-engine"));
}

TEST_CASE("spawned engines that register are shut down with shutdown_request", "[controller]") {
  // A in-process engine whose pid is a spawned process's pid stands in for a real one.
  TempDir dir;
  const auto script = write_script(dir, "quiet.sh", "exec sleep 30");
  InProcessEngineOptions fake;
  std::unique_ptr<InProcessEngine> engine;
  {
    ControllerOptions o = fast_options();
    o.shutdown_grace = 100ms;
    Controller controller(o);
    controller.spawn_local_engines(1, program(script));
    fake.pid = controller.spawned_pids().at(0);
    fake.hostname = [] {
      char name[256] = {};
      ::gethostname(name, sizeof name - 1);
      return std::string(name);
    }();
    engine = std::make_unique<InProcessEngine>(controller.connection_info(), fake);
    REQUIRE(engine->wait_registered() == 0);
  }
  CHECK(engine->count("shutdown_request") == 1);
}
