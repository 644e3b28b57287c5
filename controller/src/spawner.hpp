#pragma once
// Starting engine processes on this machine, and ending and reaping them.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <vector>

#include "cannery/controller/options.hpp"

namespace cannery::detail {

// Which program spawn() runs: options.program, else $CANNERY_ENGINE, else
// cannery-engine next to the running executable, else "cannery-engine"
// (looked up on PATH).
std::filesystem::path resolve_engine_program(const EngineSpawnOptions& options);

class Spawner {
 public:
  Spawner() = default;
  // Kills (SIGKILL) and reaps whatever terminate() left, so no zombie remains.
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  void spawn(std::size_t n, const EngineSpawnOptions& options,
             const std::filesystem::path& connection_file);
  // Every process started so far, in order.
  std::vector<int> pids() const;
  // Processes not reaped yet.
  std::vector<int> running();
  // Waits up to `grace` for the children to exit by themselves, then sends
  // SIGTERM and waits up to `grace` again, then SIGKILL; reaps all of them.
  void terminate(std::chrono::milliseconds grace);

 private:
  struct Child {
    pid_t pid;
    bool reaped = false;
  };
  // Reaps the children that have exited; true when none is left running.
  bool reap_exited_locked();
  bool wait_all_locked(std::chrono::milliseconds grace);

  mutable std::mutex mutex_;
  std::vector<Child> children_;
};

}  // namespace cannery::detail
