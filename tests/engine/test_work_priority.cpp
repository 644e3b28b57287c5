// EngineOptions::work_nice and cannery-engine --work-nice: the thread that
// runs the functions runs that much lower in priority; the heart thread,
// which answers heartbeats, keeps the priority it started with.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "engine_process.hpp"
#include "proc_threads.hpp"
#include "scripted_controller.hpp"

using namespace cannery::test;

namespace {

// This thread's nice value, which the engine's threads start with.
int nice_here() {
  return nice_of("/proc/thread-self");
}

// The nice values of `pid`'s heart threads (this process's when 0).
std::vector<int> heart_nices(pid_t pid = 0) {
  std::vector<int> nices;
  for (const auto& task : threads_named("cannery-heart", pid))
    nices.push_back(nice_of(task));
  return nices;
}

}  // namespace

TEST_CASE("an engine runs its functions work_nice below its heart thread", "[engine][runtime]") {
  ScriptedController controller;
  auto options = options_for(controller);
  options.work_nice = 5;
  RunningEngine running(options);
  running.engine.function("work_thread_nice", [] { return nice_here(); });
  running.start();
  controller.register_engine();

  const int started_with = nice_here();
  auto reply = controller.apply("work_thread_nice");
  CHECK(result_of<std::int64_t>(reply) == std::min(started_with + 5, 19));
  CHECK(heart_nices() == std::vector<int>{started_with});
}

TEST_CASE("cannery-engine --work-nice lowers its work thread only", "[engine][program]") {
  ScriptedController controller;
  TempDir dir;
  const std::filesystem::path file = dir / "controller.json";
  cannery::write_connection_file(file, controller.connection());
  Program engine({"--connection-file", file.string(), "--heartbeat-ms", "100", "--work-nice", "7"});
  // run() lowers its thread before it registers; the process's main thread runs it.
  controller.register_engine();
  const std::filesystem::path main_thread =
      "/proc/" + std::to_string(engine.pid()) + "/task/" + std::to_string(engine.pid());
  const int started_with = nice_here();
  CHECK(nice_of(main_thread) == std::min(started_with + 7, 19));
  CHECK(heart_nices(engine.pid()) == std::vector<int>{started_with});
  controller.send(proto::ShutdownRequest{});
  CHECK(engine.exit_status_within(10s) == 0);
}
