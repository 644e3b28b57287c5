#pragma once
// Starting engine processes on this machine, and ending and reaping them.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "cannery/controller/options.hpp"

namespace cannery::detail {

// Which program spawn() runs: options.program, else $CANNERY_ENGINE, else
// cannery-engine next to the running executable, else "cannery-engine"
// (looked up on PATH).
std::filesystem::path resolve_engine_program(const EngineSpawnOptions& options);

// One process for the Spawner to start.
struct Launch {
  // argv[0] without a '/' is looked up on PATH, as a shell would.
  std::vector<std::string> argv;
  std::string label;                     // names it in failures(): "ssh node-7"
  std::vector<std::string> environment;  // "NAME=value", added to this process's
  // Written to its standard input, which is then closed; empty: it inherits ours.
  std::string input;
  std::filesystem::path output;  // its standard output and error; empty: ours
  // A launcher (ssh, mpiexec, srun) rather than an engine: terminate() sends
  // it SIGTERM at once, which it passes on to its engines, instead of
  // waiting for it to exit after the engines were asked to shut down.
  bool launcher = false;
};

class Spawner {
 public:
  Spawner() = default;
  // Kills (SIGKILL) and reaps whatever terminate() left, so no zombie remains.
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  // Local engines: `n` of `options`' program with the connection file.
  void spawn(std::size_t n, const EngineSpawnOptions& options,
             const std::filesystem::path& connection_file);
  // Throws cannery::error(io_error) naming the program when it cannot start.
  void start(Launch launch);
  // Every process started so far, in order.
  std::vector<int> pids() const;
  // Engine processes (not launchers) not reaped yet.
  std::vector<int> running();
  // The processes that ended with a failure so far: their label, exit status
  // or signal, and the end of their output.
  std::vector<std::string> failures();
  // Sends launchers SIGTERM; waits up to `grace` for the children to exit by
  // themselves, then sends SIGTERM and waits up to `grace` again, then
  // SIGKILL; reaps all of them.
  void terminate(std::chrono::milliseconds grace);

 private:
  struct Child {
    pid_t pid;
    std::string label;
    std::filesystem::path output;
    bool launcher = false;
    bool reaped = false;
    int status = 0;  // as waitpid gives it, once reaped
  };
  // Reaps the children that have exited; true when none is left running.
  bool reap_exited_locked();
  bool wait_all_locked(std::chrono::milliseconds grace);

  mutable std::mutex mutex_;
  std::vector<Child> children_;
};

}  // namespace cannery::detail
