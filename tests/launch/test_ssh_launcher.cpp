// The ssh launcher against a real sshd, in test hosts (DESIGN.md, "Test
// hosts"): the controller on host 0, an sshd on hosts 1 and 2 (each with a
// key made for the test), two engines started through ssh on each. They
// register over the bridge, run tasks, never see the key on a command line,
// and stop when the controller goes. Skipped, with the reason printed,
// without root or without openssh-server and openssh-client.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_hosts.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::command_succeeds;
using cannery::test::TempDir;
using cannery::test::TestHosts;

namespace {

// Whether something accepts tcp connections at address:port, from the
// calling thread's network.
bool accepts(const std::string& address, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &to.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

TEST_CASE(
    "ssh launcher: engines on two test hosts through a real sshd, stopped with the controller",
    "[launch]") {
  TestHosts hosts(3);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  if (::access("/usr/sbin/sshd", X_OK) != 0 || !command_succeeds("command -v ssh >/dev/null")) {
    WARN("skipped: needs /usr/sbin/sshd and ssh: apt-get install openssh-server openssh-client");
    return;
  }
  TempDir dir;
  const std::string d = dir.path().string();
  REQUIRE(command_succeeds("ssh-keygen -q -t ed25519 -N '' -f " + d + "/host_key"));
  REQUIRE(command_succeeds("ssh-keygen -q -t ed25519 -N '' -f " + d + "/id"));
  std::filesystem::copy_file(dir / "id.pub", dir / "authorized_keys");
  std::filesystem::create_directories("/run/sshd");  // sshd's privilege separation directory
  for (int i = 1; i <= 2; ++i) {
    const std::filesystem::path config = dir / ("sshd-" + std::to_string(i) + ".conf");
    std::ofstream(config) << "ListenAddress " << TestHosts::address(i) << "\n"
                          << "HostKey " << d << "/host_key\n"
                          << "AuthorizedKeysFile " << d << "/authorized_keys\n"
                          << "PermitRootLogin prohibit-password\n"
                          << "PasswordAuthentication no\n"
                          << "UsePAM no\n"
                          << "StrictModes no\n"
                          << "PidFile none\n";
    hosts.start(i, {"/usr/sbin/sshd", "-D", "-e", "-f", config.string()});
  }

  std::vector<int> engine_pids;
  {
    auto inside = hosts.enter(0);  // the controller, and the ssh it runs, on host 0
    for (int i = 1; i <= 2; ++i) {
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!accepts(TestHosts::address(i), 22) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    }
    cannery::ControllerOptions o;
    o.interface = "tcp://" + TestHosts::address(0);
    o.launch_log_directory = dir / "launch-logs";
    cannery::Controller controller(o);
    cannery::SshLauncher ssh;
    ssh.hosts = {{TestHosts::address(1), 2}, {TestHosts::address(2), 2}};
    ssh.ssh_args = {"-i", d + "/id",
                    "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "LogLevel=ERROR"};
    ssh.program = CANNERY_ENGINE_PROGRAM;
    controller.start_engines(4, ssh);
    controller.wait_for_engines(4, 60s);
    for (int id : controller.engine_ids())
      CHECK(controller.apply(id, "add", 1.0, 2.0).get<double>(30s) == 3.0);
    for (const cannery::EngineInfo& e : controller.engines()) {
      engine_pids.push_back(e.pid);
      // The key is in the engine's environment, never in its arguments.
      const std::string cmdline =
          cannery::test::contents_of("/proc/" + std::to_string(e.pid) + "/cmdline");
      CHECK(cmdline.find("--exit-with-parent") != std::string::npos);
      CHECK(cmdline.find(controller.connection_info().key) == std::string::npos);
    }
    CHECK(engine_pids.size() == 4);
  }
  // The controller is gone: its ssh ended, and so did the engines.
  CHECK(cannery::test::processes_gone_within(engine_pids, 20s));
}
