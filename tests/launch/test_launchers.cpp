// start_engines with the ssh, mpiexec, srun and sbatch launchers: the
// connection info reaches the engines off the command line, ranks show in
// engines(), a loopback controller refuses launchers that may start engines
// elsewhere, and a launcher that fails is named by wait_for_engines. Most
// launcher programs are stand-ins written by the test (shell scripts that
// start the engines on this host as ssh, mpiexec, srun and sbatch would
// start them elsewhere), so no daemon or allocation is needed; the last
// cases run Open MPI's and MPICH's real mpiexec on this host.

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "../cluster/cluster_fixture.hpp"
#include "launched_engines.hpp"
#include "test_hosts.hpp"

using namespace std::chrono_literals;
using cannery::test::capture_error;
using cannery::test::ranks_of;
using cannery::test::TempDir;

namespace {

// An executable script `name` in `dir`.
std::filesystem::path script(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::filesystem::path path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  ::chmod(path.c_str(), 0700);
  return path;
}

// ssh: records its arguments, then runs the remote command (the last
// argument) here, its standard input passed on as ssh passes it.
std::filesystem::path fake_ssh(const TempDir& dir) {
  return script(dir, "ssh",
                "printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/ssh-args-$$\"\n"
                "for last; do :; done\n"
                "exec sh -c \"$last\"\n");
}

// A launcher of `n` ranks, each told its rank in `rank_variable`, the
// connection info passed on only when named by `pass_flag` (as mpiexec -x):
// "-n N -x NAME program args..." or "--ntasks N program args...".
std::filesystem::path fake_rank_launcher(const TempDir& dir, const std::string& name,
                                         const std::string& count_flag,
                                         const std::string& rank_variable, bool needs_pass) {
  return script(dir, name,
                "n=1; pass=''\n"
                "while [ $# -gt 0 ]; do\n"
                "  case \"$1\" in\n"
                "    " +
                    count_flag +
                    ") n=$2; shift 2 ;;\n"
                    "    -x) pass=\"$pass $2\"; shift 2 ;;\n"
                    "    *) break ;;\n"
                    "  esac\n"
                    "done\n" +
                    (needs_pass ? "case \" $pass \" in *' CANNERY_CONNECTION_INFO '*) ;; *) unset "
                                  "CANNERY_CONNECTION_INFO ;; esac\n"
                                : "") +
                    "pids=''; i=0\n"
                    "while [ $i -lt $n ]; do\n"
                    "  " +
                    rank_variable +
                    "=$i \"$@\" &\n"
                    "  pids=\"$pids $!\"; i=$((i + 1))\n"
                    "done\n"
                    "trap 'kill -TERM $pids 2>/dev/null' TERM\n"
                    "wait\n");
}

}  // namespace

TEST_CASE("the ssh launcher hands engines the connection info on standard input", "[launch]") {
  TempDir dir;
  cannery::SshLauncher ssh;
  ssh.hosts = {{"localhost", 2}};
  ssh.ssh = fake_ssh(dir);
  ssh.ssh_args = {"-p", "2222"};
  ssh.program = CANNERY_ENGINE_PROGRAM;
  std::vector<int> pids;
  std::string key;
  {
    cannery::Controller controller;
    key = controller.connection_info().key;
    controller.start_engines(2, ssh);
    controller.wait_for_engines(2, cannery::test::engine_start_timeout);
    CHECK(controller.apply(cannery::any_engine, "add", 1.0, 2.0).get<double>(30s) == 3.0);
    pids = controller.spawned_pids();
    CHECK(pids.size() == 2);
  }
  // The engines stopped with the controller (their ssh ended).
  CHECK(cannery::test::processes_gone_within(pids, 20s));
  std::size_t calls = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (!entry.path().filename().string().starts_with("ssh-args-")) continue;
    ++calls;
    std::ifstream in(entry.path());
    const std::string args((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(args);
    CHECK(args.starts_with("-p\n2222\n-o\nBatchMode=yes\n-T\nlocalhost\n"));
    CHECK(args.find("CANNERY_CONNECTION_INFO=\"$(cat)\"") != std::string::npos);
    CHECK(args.find(key) == std::string::npos);  // never on a command line
  }
  CHECK(calls == 2);
}

TEST_CASE("mpiexec and srun launchers start ranked engines", "[launch]") {
  TempDir dir;
  cannery::Controller controller;
  // Both run every rank here (same_host), as on a one-node allocation.
  auto start = [&](auto launcher, std::size_t n, std::size_t alive) {
    launcher.program = CANNERY_ENGINE_PROGRAM;
    launcher.same_host = true;
    controller.start_engines(n, launcher);
    controller.wait_for_engines(alive, cannery::test::engine_start_timeout);
  };
  cannery::MpiexecLauncher mpi;
  mpi.mpiexec = fake_rank_launcher(dir, "mpiexec", "-n", "OMPI_COMM_WORLD_RANK", true);
  start(mpi, 3, 3);
  CHECK(ranks_of(controller) == std::set<long long>{0, 1, 2});

  cannery::SlurmLauncher slurm;
  slurm.srun = fake_rank_launcher(dir, "srun", "--ntasks", "SLURM_PROCID", false);
  start(slurm, 2, 5);
  std::multiset<long long> all;
  for (const auto& e : controller.engines())
    all.insert(e.rank);
  CHECK(all == std::multiset<long long>{0, 0, 1, 1, 2});
}

TEST_CASE("the sbatch launcher submits a batch script of engines and cancels it at the end",
          "[launch]") {
  TempDir dir;
  // sbatch --parsable: runs the script (its last argument) in the background
  // with the job's output where --output says, and prints "<id>;<cluster>";
  // scancel ID: ends that background job.
  const std::filesystem::path sbatch =
      script(dir, "sbatch",
             "printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/sbatch-args\"\n"
             "for a; do case \"$a\" in --output=*) out=${a#--output=} ;; esac; done\n"
             "for last; do :; done\n"
             "sh \"$last\" > \"$out\" 2>&1 &\n"
             "echo $! > \"$(dirname \"$0\")/job-$!\"\n"
             "echo 'sbatch: warning: a line before the id'\n"
             "echo \"$!;test-cluster\"\n");
  const std::filesystem::path scancel = script(dir, "scancel",
                                               "echo \"$1\" >> \"$(dirname \"$0\")/cancelled\"\n"
                                               "kill -TERM \"$1\"\n");
  const std::filesystem::path srun =
      fake_rank_launcher(dir, "srun", "--ntasks", "SLURM_PROCID", false);
  cannery::SbatchLauncher batch;
  batch.sbatch = sbatch;
  batch.scancel = scancel;
  batch.sbatch_args = {"--partition", "debug"};
  batch.program = CANNERY_ENGINE_PROGRAM;
  // The template's srun is the stand-in; "exec" so that scancel's SIGTERM
  // reaches it.
  batch.script_template = "#!/bin/sh\n#SBATCH --ntasks={ntasks}\nexec " + srun.string() +
                          " --ntasks {ntasks} {engines}\n";
  {
    // A new allocation is elsewhere: a loopback controller refuses it.
    cannery::Controller controller;
    CHECK(capture_error([&] { controller.start_engines(2, batch); }).code() ==
          cannery::errc::invalid_argument);
  }
  // The rest needs a controller that other hosts could reach: on a test
  // host's address (a network namespace of its own), with the stand-in
  // launchers and the engines they start in that namespace too.
  cannery::test::TestHosts hosts(1);
  if (!hosts.available()) {
    WARN("skipped the rest: " << hosts.why_not());
    return;
  }
  auto inside = hosts.enter(0);
  std::vector<int> pids;
  std::string key;
  {
    cannery::ControllerOptions options;
    options.launch_log_directory = dir / "logs";
    options.interface = "tcp://" + cannery::test::TestHosts::address(0);
    cannery::Controller controller(options);
    key = controller.connection_info().key;
    controller.start_engines(2, batch);
    controller.wait_for_engines(2, cannery::test::engine_start_timeout);
    CHECK(ranks_of(controller) == std::set<long long>{0, 1});
    for (const auto& e : controller.engines())
      pids.push_back(e.pid);
  }
  // The job was cancelled, and its engines stopped with it.
  std::ifstream cancelled(dir / "cancelled");
  std::string id;
  CHECK(std::getline(cancelled, id));
  CHECK(std::filesystem::exists(dir / ("job-" + id)));
  CHECK(cannery::test::processes_gone_within(pids, 20s));
  // The script holds the engine command, not the key.
  std::ifstream args_file(dir / "sbatch-args");
  const std::string args((std::istreambuf_iterator<char>(args_file)),
                         std::istreambuf_iterator<char>());
  CHECK(args.find("--parsable\n") != std::string::npos);
  CHECK(args.find("--partition\ndebug\n") != std::string::npos);
  for (const auto& entry : std::filesystem::directory_iterator(dir / "logs")) {
    if (entry.path().extension() != ".sh") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text.find("--ntasks 2 '" + std::string(CANNERY_ENGINE_PROGRAM) +
                    "' '--exit-with-parent'") != std::string::npos);
    CHECK(text.find(key) == std::string::npos);
  }

  // sbatch refusing the job: its own words, at once.
  const std::filesystem::path refusing = script(
      dir, "sbatch-refusing",
      "echo 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\n"
      "exit 1\n");
  cannery::ControllerOptions options;
  options.interface = "tcp://" + cannery::test::TestHosts::address(0);
  cannery::Controller controller(options);
  batch.sbatch = refusing;
  const cannery::error e = capture_error([&] { controller.start_engines(1, batch); });
  CHECK(e.code() == cannery::errc::io_error);
  CHECK_THAT(e.message(), Catch::Contains("exited with status 1") &&
                              Catch::Contains("Invalid partition name specified"));
}

TEST_CASE("the default batch script run by bash without srun says so and wait_for_engines tells it",
          "[launch]") {
  TempDir dir;
  // A job's environment without Slurm's commands: only `hostname` on PATH.
  std::filesystem::create_directories(dir / "bin");
  std::filesystem::create_symlink("/bin/hostname", dir / "bin" / "hostname");
  // sbatch --parsable: runs the script under a real bash with that PATH, as
  // the job would run on a node, its output where --output says, its exit
  // status in a file; prints a job id.
  const std::filesystem::path sbatch =
      script(dir, "sbatch",
             "for a; do case \"$a\" in --output=*) out=${a#--output=} ;; esac; done\n"
             "for last; do :; done\n"
             "here=$(dirname \"$0\")\n"
             "(env -i SLURM_JOB_ID=41 PATH=\"$here/bin\" /bin/bash \"$last\" > \"$out\" 2>&1;"
             " echo $? > \"$here/status\") &\n"
             "echo 41\n");
  cannery::SbatchLauncher batch;
  batch.sbatch = sbatch;
  batch.scancel = script(dir, "scancel", "exit 0\n");
  batch.program = CANNERY_ENGINE_PROGRAM;
  cannery::test::TestHosts hosts(1);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  auto inside = hosts.enter(0);
  cannery::ControllerOptions options;
  options.launch_log_directory = dir / "logs";
  options.interface = "tcp://" + cannery::test::TestHosts::address(0);
  cannery::Controller controller(options);
  controller.start_engines(2, batch);
  const cannery::error e = capture_error([&] { controller.wait_for_engines(2, 3s); });
  CHECK(e.code() == cannery::errc::timeout);
  CHECK_THAT(e.message(), Catch::Contains("batch job 41") &&
                              Catch::Contains("srun is not on PATH in batch job 41") &&
                              Catch::Contains("SbatchLauncher::script_template"));
  std::ifstream status(dir / "status");
  int exit_status = -1;
  CHECK(status >> exit_status);
  CHECK(exit_status == 127);  // as a shell's "command not found"
}

TEST_CASE("a loopback controller refuses launchers that may start engines elsewhere", "[launch]") {
  cannery::Controller controller;  // tcp on 127.0.0.1
  cannery::SshLauncher ssh;
  ssh.hosts = {{"localhost", 1}, {"user@node-a", 1}};
  const cannery::error by_ssh = capture_error([&] { controller.start_engines(2, ssh); });
  CHECK(by_ssh.code() == cannery::errc::invalid_argument);
  CHECK_THAT(by_ssh.message(), Catch::Contains("ssh host user@node-a") &&
                                   Catch::Contains(controller.endpoint()) &&
                                   Catch::Contains("ControllerOptions::interface"));
  for (const cannery::Launcher& launcher : {cannery::Launcher(cannery::MpiexecLauncher{}),
                                            cannery::Launcher(cannery::SlurmLauncher{})}) {
    const cannery::error e = capture_error([&] { controller.start_engines(1, launcher); });
    CHECK(e.code() == cannery::errc::invalid_argument);
    CHECK_THAT(e.message(), Catch::Contains("same_host"));
  }
  CHECK(controller.spawned_pids().empty());  // nothing was started

  ssh.hosts = {{"localhost", 2}};
  CHECK(capture_error([&] { controller.start_engines(3, ssh); }).code() ==
        cannery::errc::invalid_argument);
}

TEST_CASE("wait_for_engines names a launcher that failed, with its status and output", "[launch]") {
  TempDir dir;
  cannery::Controller controller;
  cannery::SshLauncher ssh;
  ssh.hosts = {{"localhost", 1}};
  ssh.ssh = script(dir, "ssh",
                   "echo 'ssh: connect to host localhost port 22: Connection refused' >&2\n"
                   "exit 255\n");
  controller.start_engines(1, ssh);
  const cannery::error e = capture_error([&] { controller.wait_for_engines(1, 3s); });
  CHECK(e.code() == cannery::errc::timeout);
  CHECK_THAT(e.message(), Catch::Contains("0 of 1 engines") &&
                              Catch::Contains("ssh localhost (engine 1 of 1 there)") &&
                              Catch::Contains("exited with status 255") &&
                              Catch::Contains("Connection refused"));

  // A launcher program that does not exist fails at once.
  ssh.ssh = dir / "no-such-ssh";
  CHECK(capture_error([&] { controller.start_engines(1, ssh); }).code() == cannery::errc::io_error);
}

namespace {

// `mpi` (run on this host) starts 8 engines that register with their ranks,
// each runs a task, and all stop with the controller.
void eight_ranked_engines(cannery::MpiexecLauncher mpi) {
  std::vector<int> pids;
  {
    cannery::Controller controller;
    mpi.program = CANNERY_ENGINE_PROGRAM;
    mpi.same_host = true;
    controller.start_engines(8, mpi);
    controller.wait_for_engines(8, cannery::test::engine_start_timeout);
    CHECK(ranks_of(controller) == std::set<long long>{0, 1, 2, 3, 4, 5, 6, 7});
    pids = cannery::test::run_on_every_engine(controller);
  }
  // mpiexec passed the controller's SIGTERM on to its ranks.
  CHECK(cannery::test::processes_gone_within(pids, 20s));
}

}  // namespace

TEST_CASE(
    "a real Open MPI mpiexec starts 8 ranked engines that run tasks and stop with the controller",
    "[launch]") {
  if (!cannery::test::command_succeeds(
          "mpiexec --version 2>/dev/null | grep -q -e OpenRTE -e 'Open MPI'")) {
    WARN("skipped: needs Open MPI's mpiexec: apt-get install openmpi-bin");
    return;
  }
  // Open MPI refuses to run as root unless told that it is meant.
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  cannery::MpiexecLauncher mpi;
  mpi.mpiexec_args = {"--oversubscribe"};  // more ranks than this machine's cores
  eight_ranked_engines(mpi);
}

TEST_CASE(
    "a real MPICH mpiexec starts 8 ranked engines that run tasks and stop with the controller",
    "[launch]") {
  // Debian installs MPICH's Hydra beside Open MPI as mpiexec.mpich.
  if (!cannery::test::command_succeeds("mpiexec.mpich --version 2>/dev/null | grep -q HYDRA")) {
    WARN("skipped: needs MPICH's mpiexec.mpich: apt-get install mpich");
    return;
  }
  cannery::MpiexecLauncher mpi;
  mpi.mpiexec = "mpiexec.mpich";
  mpi.flavor = cannery::MpiexecLauncher::Flavor::mpich;
  eight_ranked_engines(mpi);
}
