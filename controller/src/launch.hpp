#pragma once
// What Controller::start_engines runs for a launcher other than the local
// one: the processes (ssh per engine, one mpiexec, one srun) and the check
// that the engines they start can reach the controller.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "cannery/controller/launchers.hpp"
#include "cannery/controller/options.hpp"
#include "cannery/messaging/connection_file.hpp"
#include "spawner.hpp"

namespace cannery::detail {

// Whether only processes of this host can connect to `endpoint` (ipc,
// inproc, or tcp on a loopback address or "localhost").
bool reachable_from_here_only(const std::string& endpoint);

// Throws cannery::error(invalid_argument), saying what to set, when
// `endpoint` is reachable from this host only (a loopback address, ipc) and
// `launcher` may start engines on other hosts.
void check_reachable(const std::string& endpoint, const Launcher& launcher);

// The processes that start `n` engines with `launcher` (not LocalLauncher),
// handing them `info`; each writes its output to a file in `log_directory`.
// Throws invalid_argument when `n` does not match the launcher's hosts.
std::vector<Launch> launches(std::size_t n, const Launcher& launcher,
                             const EngineSpawnOptions& options, const ConnectionInfo& info,
                             const std::filesystem::path& log_directory);

// Writes the batch script for `n` engines from the launcher's template into
// `log_directory` and submits it, waiting up to a minute for sbatch. Throws
// cannery::error(io_error) with sbatch's exit status and output when it
// fails or prints no job id.
BatchJob submit_batch_job(std::size_t n, const SbatchLauncher& launcher,
                          const EngineSpawnOptions& options, const ConnectionInfo& info,
                          const std::filesystem::path& log_directory);

}  // namespace cannery::detail
