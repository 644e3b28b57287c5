#pragma once
// Where Controller::start_engines starts engines: this machine, other
// machines through ssh, or the cluster's own launchers (mpiexec, srun,
// sbatch).
//
// Every launcher but the local one hands the engines the connection info in
// their environment (CANNERY_CONNECTION_INFO) or on ssh's standard input,
// never on a command line, which other users of a machine can read. Its
// processes' output goes to a log file; when engines do not come,
// Controller::wait_for_engines names the launcher that failed, its exit
// status and the end of that output. docs/controller.md, "Launchers".

#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cannery {

// Processes on this machine, as spawn_local_engines starts them.
struct LocalLauncher {};

// One `ssh HOST` per engine, running `program` there, which must be on the
// PATH of a non-interactive login (or give its full path). Engines stop when
// their ssh ends (--exit-with-parent), so they stop with the controller.
struct SshLauncher {
  // Hosts as ssh takes them ("node-7", "user@node-7", a ~/.ssh/config alias)
  // and how many engines to start on each.
  std::vector<std::pair<std::string, std::size_t>> hosts;
  std::filesystem::path ssh = "ssh";
  // Before the host, after ours ("-o BatchMode=yes -T"): {"-p", "2222"}.
  std::vector<std::string> ssh_args;
  std::string program = "cannery-engine";
};

// One `mpiexec -n N program` for all N engines; each reports its rank.
struct MpiexecLauncher {
  // How the environment variable is passed on: Open MPI's `-x NAME` or
  // MPICH's (Hydra's) `-genvlist NAME`.
  enum class Flavor { open_mpi, mpich };
  Flavor flavor = Flavor::open_mpi;
  std::filesystem::path mpiexec = "mpiexec";
  // After `-n N` and the environment flag: {"--hostfile", "hosts"}.
  std::vector<std::string> mpiexec_args;
  std::string program = "cannery-engine";
  // Every rank runs on this machine (no hostfile, no allocation): then a
  // controller bound to a loopback address or ipc is reachable.
  bool same_host = false;
};

// `srun --ntasks N program` inside a Slurm allocation (salloc, sbatch);
// srun passes the environment on. Each engine reports its rank.
struct SlurmLauncher {
  std::filesystem::path srun = "srun";
  // After `--ntasks N`: {"--nodes", "4"}, {"--partition", "debug"}.
  std::vector<std::string> srun_args;
  std::string program = "cannery-engine";
  bool same_host = false;  // as MpiexecLauncher::same_host
};

// A new Slurm allocation: `sbatch --parsable` of a batch script made from
// `script_template`, whose "{ntasks}" becomes the engine count and
// "{engines}" the engine command (program and arguments, quoted for sh).
// sbatch exports the submitting environment (--export=ALL, its default), so
// the connection info reaches the job in it; Slurm keeps a job's
// environment with the job, where its administrators can read it. The job's
// output goes to a file in the launch log directory. The default script
// first checks that srun is there, so that a node without Slurm's commands
// says so in that output (quoted by wait_for_engines) instead of failing
// silently. The controller cancels the job (scancel) when it goes.
struct SbatchLauncher {
  std::filesystem::path sbatch = "sbatch";
  std::filesystem::path scancel = "scancel";
  // Before the script: {"--partition", "debug", "--time", "60"}.
  std::vector<std::string> sbatch_args;
  std::string program = "cannery-engine";
  std::string script_template =
      "#!/bin/sh\n"
      "#SBATCH --ntasks={ntasks}\n"
      "#SBATCH --job-name=cannery-engines\n"
      "command -v srun >/dev/null 2>&1 || { echo \"cannery: srun is not on PATH in batch job "
      "$SLURM_JOB_ID on $(hostname), so no engine was started; make Slurm's commands available "
      "in the job (a module load line in SbatchLauncher::script_template)\" >&2; exit 127; }\n"
      "exec srun {engines}\n";
};

using Launcher =
    std::variant<LocalLauncher, SshLauncher, MpiexecLauncher, SlurmLauncher, SbatchLauncher>;

}  // namespace cannery
