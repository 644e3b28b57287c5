// The srun and sbatch launchers against a real Slurm. munged, slurmctld and
// slurmd (Debian's munge, slurmctld and slurmd) run on test host 1 with a
// configuration and a munge key made for the test in a temporary directory;
// the controller, and the srun, sbatch and scancel it runs, are on test host
// 0. So the engines start on another "host" and register over the bridge,
// with their Slurm ranks, and the controller's end ends the job step or the
// batch job. Skipped, with the reason printed, without root or without those
// packages.

#include <unistd.h>

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "launched_engines.hpp"
#include "test_hosts.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::command_succeeds;
using cannery::test::ranks_of;
using cannery::test::run_on_every_engine;
using cannery::test::TempDir;
using cannery::test::TestHosts;

namespace {

std::string this_host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// A one-node Slurm cluster on test host 1, for commands run on host 0 (the
// calling thread must be inside host 0 when they run). SLURM_CONF points
// this process, and what it starts, at the cluster's configuration while it
// lives. The daemons are stopped with the test hosts.
class SlurmCluster {
 public:
  static constexpr const char* node = "cannery-node";

  SlurmCluster(TestHosts& hosts, const TempDir& dir) : dir_(dir.path()) {
    const std::string d = dir_.string();
    std::filesystem::create_directories(dir_ / "state");
    std::filesystem::create_directories(dir_ / "spool");
    {
      std::ofstream key(dir_ / "munge.key", std::ios::binary);
      std::ifstream random("/dev/urandom", std::ios::binary);
      std::vector<char> bytes(1024);
      random.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      key.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    std::filesystem::permissions(dir_ / "munge.key", std::filesystem::perms::owner_read);
    const std::string controller_host = this_host_name();
    const std::string address = TestHosts::address(1);
    // Processes tracked by /proc (no cgroups), no accounting, and more CPUs
    // than the machine has (config_overrides), so that tasks may outnumber
    // its cores as engines do.
    std::ofstream(dir_ / "slurm.conf")
        << "ClusterName=cannerytest\n"
        << "SlurmctldHost=" << controller_host << "(" << address << ")\n"
        << "AuthType=auth/munge\nCredType=cred/munge\n"
        << "AuthInfo=socket=" << d << "/munge.sock\n"
        << "SlurmUser=root\nSlurmdUser=root\n"
        << "StateSaveLocation=" << d << "/state\nSlurmdSpoolDir=" << d << "/spool\n"
        << "SlurmctldPidFile=" << d << "/slurmctld.pid\nSlurmdPidFile=" << d << "/slurmd.pid\n"
        << "SlurmctldLogFile=" << d << "/slurmctld.log\nSlurmdLogFile=" << d << "/slurmd.log\n"
        << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
        << "JobAcctGatherType=jobacct_gather/none\nAccountingStorageType=accounting_storage/none\n"
        << "SchedulerType=sched/builtin\nSelectType=select/cons_tres\n"
        << "SelectTypeParameters=CR_Core\nSlurmdParameters=config_overrides\n"
        << "MpiDefault=none\nReturnToService=2\n"
        << "NodeName=" << node << " NodeHostname=" << controller_host << " NodeAddr=" << address
        << " CPUs=64 State=UNKNOWN\n"
        << "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n";
    ::setenv("SLURM_CONF", (dir_ / "slurm.conf").c_str(), 1);

    hosts.start(1, {"munged", "--foreground", "--force", "--socket=" + d + "/munge.sock",
                    "--key-file=" + d + "/munge.key", "--pid-file=" + d + "/munged.pid",
                    "--log-file=" + d + "/munged.log", "--seed-file=" + d + "/munged.seed"});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!std::filesystem::exists(dir_ / "munge.sock") &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(50ms);
    hosts.start(1, {"slurmctld", "-D", "-i"});
    hosts.start(1, {"slurmd", "-D", "-N", node});
  }

  ~SlurmCluster() { ::unsetenv("SLURM_CONF"); }
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // Whether the node is up and idle within `timeout`, as sinfo on host 0
  // sees it.
  bool node_idle_within(std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (command_succeeds("sinfo --noheader --format=%t 2>/dev/null | grep -qx idle")) return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  // Whether Slurm has no job left (running or ending) within `timeout`.
  bool no_jobs_within(std::chrono::seconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (command_succeeds("test -z \"$(squeue --noheader 2>/dev/null)\" && squeue >/dev/null"))
        return true;
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }

  // The daemons' logs, for a failure's message.
  std::string logs() const {
    std::string text;
    for (const char* name : {"munged.log", "slurmctld.log", "slurmd.log"})
      text += std::string("--- ") + name + "\n" + cannery::test::contents_of(dir_ / name);
    return text;
  }

 private:
  std::filesystem::path dir_;
};

// Why these tests cannot run here, or empty.
std::string missing_slurm() {
  for (const char* program : {"/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd"})
    if (::access(program, X_OK) != 0) return std::string("no ") + program;
  if (!command_succeeds("command -v srun && command -v sbatch && command -v scancel"))
    return "no srun, sbatch or scancel";
  return {};
}

cannery::ControllerOptions options_on_host_0(const TempDir& dir) {
  cannery::ControllerOptions o;
  o.interface = "tcp://" + TestHosts::address(0);
  o.launch_log_directory = dir / "launch-logs";
  return o;
}

}  // namespace

TEST_CASE("srun and sbatch launchers start engines through a real Slurm on another test host",
          "[launch]") {
  TestHosts hosts(2);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  if (const std::string why = missing_slurm(); !why.empty()) {
    WARN("skipped: " << why << ": apt-get install munge slurmctld slurmd slurm-client");
    return;
  }
  TempDir dir;
  auto inside = hosts.enter(0);
  SlurmCluster slurm(hosts, dir);
  if (!slurm.node_idle_within(60s)) FAIL("the Slurm node did not come up:\n" << slurm.logs());

  // srun, which makes an allocation of its own for the engines.
  std::vector<int> pids;
  {
    cannery::Controller controller(options_on_host_0(dir));
    cannery::SlurmLauncher launcher;
    launcher.program = CANNERY_ENGINE_PROGRAM;
    controller.start_engines(4, launcher);
    controller.wait_for_engines(4, 60s);
    CHECK(ranks_of(controller) == std::set<long long>{0, 1, 2, 3});
    pids = run_on_every_engine(controller);
  }
  // srun was stopped with the controller, and Slurm ended the job.
  CHECK(slurm.no_jobs_within(30s));
  CHECK(cannery::test::processes_gone_within(pids, 20s));

  // sbatch, with the default batch script.
  {
    cannery::Controller controller(options_on_host_0(dir));
    cannery::SbatchLauncher launcher;
    launcher.program = CANNERY_ENGINE_PROGRAM;
    launcher.sbatch_args = {"--time", "10"};
    controller.start_engines(3, launcher);
    controller.wait_for_engines(3, 60s);
    CHECK(ranks_of(controller) == std::set<long long>{0, 1, 2});
    pids = run_on_every_engine(controller);
  }
  // The controller cancelled the job, and its engines ended with it.
  CHECK(slurm.no_jobs_within(30s));
  CHECK(cannery::test::processes_gone_within(pids, 20s));
}
