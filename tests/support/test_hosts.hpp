#pragma once
// Test hosts (DESIGN.md, "Test hosts"): K network namespaces joined by a
// bridge, made by scripts/test-hosts.sh, with processes and sockets placed in
// them. Each host has a /dev/shm of its own, seen by the processes start()
// puts there; this process, and threads moved by enter(), keep the real one,
// so a controller on a test host shares memory with no engine started on one.
// Everything is removed by the destructor, and by a watchdog process
// when this one dies first (a failed assertion that aborts, a signal, a
// SIGKILL from ctest's timeout). Not root or no iproute2: available() is false
// and why_not() says why, for the test to print and skip.
//
//   cannery::test::TestHosts hosts(3);
//   if (!hosts.available()) { WARN("skipped: " << hosts.why_not()); return; }
//   auto inside = hosts.enter(0);   // this thread's new sockets live on host 0
//   ... a Controller binding tcp://<hosts.address(0)> ...
//   hosts.start(1, {engine, "--connection-file", file});   // a process on host 1

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace cannery::test {

class TestHosts {
 public:
  explicit TestHosts(int k, std::string rate = "1gbit") : k_(k) {
    if (::geteuid() != 0) {
      why_not_ = "test hosts need root (network namespaces)";
      return;
    }
    if (run({"sh", "-c", "command -v ip && command -v tc"}, true) != 0) {
      why_not_ = "test hosts need iproute2 (ip, tc): apt-get install iproute2";
      return;
    }
    static std::atomic<int> made{0};
    name_ = "cannery-" + std::to_string(::getpid()) + "-t" + std::to_string(made++);
    run({script(), "sweep"});  // hosts of test processes that died without cleaning up
    if (run({script(), "up", name_, std::to_string(k), rate}) != 0) {
      why_not_ = "scripts/test-hosts.sh up " + name_ + " failed (see its message above)";
      name_.clear();
      return;
    }
    start_watchdog();
  }

  ~TestHosts() {
    for (pid_t pid : processes_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (name_.empty()) return;
    run({script(), "down", name_});
    if (watchdog_ > 0) {
      ::kill(-watchdog_, SIGKILL);
      ::waitpid(watchdog_, nullptr, 0);
    }
  }

  TestHosts(const TestHosts&) = delete;
  TestHosts& operator=(const TestHosts&) = delete;

  bool available() const { return !name_.empty(); }
  const std::string& why_not() const { return why_not_; }
  int size() const { return k_; }
  std::string host(int i) const { return name_ + "-h" + std::to_string(i); }
  static std::string address(int i) { return "10.231.0." + std::to_string(i + 1); }

  // Cuts (false) or restores (true) host i's link to the bridge.
  void link(int i, bool up) {
    if (run({script(), "link", name_, std::to_string(i), up ? "up" : "down"}) != 0)
      throw std::runtime_error("could not set the link of " + host(i));
  }

  // Moves the calling thread into host i's network until the returned guard
  // goes: sockets it opens, and threads it starts, live there from now on.
  // Only the network: its /dev/shm stays this process's, not the host's.
  class Inside {
   public:
    explicit Inside(const std::string& host) : home_(::open("/proc/self/ns/net", O_RDONLY)) {
      const int there = ::open(("/run/netns/" + host).c_str(), O_RDONLY);
      if (home_ < 0 || there < 0 || ::setns(there, CLONE_NEWNET) != 0)
        throw std::runtime_error("could not enter the network of " + host);
      ::close(there);
    }
    ~Inside() {
      ::setns(home_, CLONE_NEWNET);
      ::close(home_);
    }
    Inside(const Inside&) = delete;
    Inside& operator=(const Inside&) = delete;

   private:
    int home_;
  };
  Inside enter(int i) const { return Inside(host(i)); }

  // Starts `argv` on host i, in its network and with its /dev/shm; it is
  // killed (if still running) by the destructor. Returns its pid: `test-hosts.sh
  // run`, the way people run programs on a host too, ends by exec'ing argv.
  pid_t start(int i, const std::vector<std::string>& argv) {
    std::vector<std::string> full{script(), "run", name_, std::to_string(i)};
    full.insert(full.end(), argv.begin(), argv.end());
    const pid_t pid = spawn(full, false);
    processes_.push_back(pid);
    return pid;
  }

 private:
  static std::string script() { return CANNERY_SOURCE_DIR "/scripts/test-hosts.sh"; }

  static pid_t spawn(const std::vector<std::string>& argv, bool own_group, bool quiet = false) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    if (own_group) {
      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
      posix_spawnattr_setpgroup(&attr, 0);
    }
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    if (quiet) posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int failed = ::posix_spawnp(&pid, args[0], &files, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    if (failed != 0) throw std::runtime_error("could not start " + argv[0]);
    return pid;
  }

  static int run(const std::vector<std::string>& argv, bool quiet = false) {
    const pid_t pid = spawn(argv, false, quiet);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  }

  // Removes the hosts once this process is gone, however it ends. In a
  // process group of its own, so that signals to the test's group spare it.
  void start_watchdog() {
    const std::string wait_then_clean = "while kill -0 " + std::to_string(::getpid()) +
                                        " 2>/dev/null; do sleep 1; done; exec '" + script() +
                                        "' down " + name_;
    watchdog_ = spawn({"sh", "-c", wait_then_clean}, true);
  }

  int k_;
  std::string name_;
  std::string why_not_;
  pid_t watchdog_ = -1;
  std::vector<pid_t> processes_;
};

}  // namespace cannery::test
