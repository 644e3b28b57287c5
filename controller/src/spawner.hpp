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

// The engine's arguments after its program and connection: it stops when
// whatever started it ends (this process, ssh, a rank's launcher daemon),
// its work priority (options.work_nice; unset: none), then the plugins and
// extra args. Throws cannery::error(invalid_argument) when work_nice is not
// from 0 to 19.
std::vector<std::string> engine_arguments(const EngineSpawnOptions& options);

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

// A batch job that runs engines, submitted by sbatch; the Spawner cancels it.
struct BatchJob {
  std::string id;
  std::filesystem::path scancel;
  std::filesystem::path output;  // the job's own output (sbatch --output)
};

// How a program run to its end went: its exit status (-1: killed, or it
// did not end in time) and its output, or when it failed, what went wrong
// and the end of its output.
struct RunOutcome {
  int status = 0;
  std::string output;
};

// Runs `launch` (its output to launch.output, which must be set) and waits
// for it, up to `timeout` (then kills it). Throws io_error when it cannot
// start.
RunOutcome run_to_end(Launch launch, std::chrono::milliseconds timeout);

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
  // Batch jobs to cancel with the rest (terminate() runs their scancel).
  void track(BatchJob job);
  // The batch jobs submitted, for a message: their ids and output files.
  std::vector<std::string> jobs() const;
  // Cancels the batch jobs and sends launchers SIGTERM; waits up to `grace` for the children to
  // exit by themselves, then sends SIGTERM and waits up to `grace` again, then SIGKILL; reaps all
  // of them.
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
  std::vector<BatchJob> jobs_;
};

}  // namespace cannery::detail
