// Test hosts' /dev/shm (DESIGN.md, "Test hosts"): as on separate machines,
// the processes started on one host share its /dev/shm, and see neither
// another host's nor this process's; each host's is removed with the hosts.
// Labelled `partition`; skipped, with the reason printed, without root.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "test_hosts.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::TestHosts;

namespace {

// The contents of `file` once a process has renamed it into place.
std::string wait_for_file(const std::filesystem::path& file) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!std::filesystem::exists(file)) {
    if (std::chrono::steady_clock::now() >= deadline) FAIL("no " << file << " after 20 s");
    std::this_thread::sleep_for(20ms);
  }
  std::ostringstream text;
  text << std::ifstream(file).rdbuf();
  return text.str();
}

// Where the script keeps host i's /dev/shm (scripts/test-hosts.sh, header).
std::filesystem::path shm_directory(const TestHosts& hosts, int i) {
  return "/dev/shm/" + hosts.host(i);
}

}  // namespace

TEST_CASE("each test host has a /dev/shm of its own, shared by its processes", "[partition]") {
  cannery::test::TempDir dir;  // in /tmp, which every host sees: the processes' reports
  std::optional<TestHosts> hosts(std::in_place, 2);
  if (!hosts->available()) {
    WARN("skipped: " << hosts->why_not());
    return;
  }
  // Names unlikely to be in the real /dev/shm already.
  const std::string mine = "test-hosts-shm-" + std::to_string(::getpid()) + "-";

  // A process on each host writes a file in its /dev/shm, then reports.
  const std::string write =
      "echo \"$3\" > /dev/shm/\"$2$3\" && echo > \"$1/wrote$3.tmp\" && "
      "mv \"$1/wrote$3.tmp\" \"$1/wrote$3\"";
  for (int i : {0, 1})
    hosts->start(i, {"sh", "-c", write, "sh", dir.path().string(), mine, std::to_string(i)});
  for (int i : {0, 1})
    wait_for_file(dir / ("wrote" + std::to_string(i)));

  // Another process on each host reports what its /dev/shm holds.
  const std::string list =
      "cd /dev/shm && for f in *; do echo \"$f $(cat \"$f\")\"; done > "
      "\"$1/seen$2.tmp\" && mv \"$1/seen$2.tmp\" \"$1/seen$2\"";
  for (int i : {0, 1})
    hosts->start(i, {"sh", "-c", list, "sh", dir.path().string(), std::to_string(i)});
  // Its host's file only: not the other host's, nor what the real /dev/shm
  // holds (the hosts' directories at least).
  CHECK(wait_for_file(dir / "seen0") == mine + "0 0\n");
  CHECK(wait_for_file(dir / "seen1") == mine + "1 1\n");

  // This process sees neither file in its /dev/shm; they are in the hosts'.
  for (int i : {0, 1}) {
    const std::string file = mine + std::to_string(i);
    CHECK_FALSE(std::filesystem::exists("/dev/shm/" + file));
    CHECK(std::filesystem::exists(shm_directory(*hosts, i) / file));
  }

  const std::filesystem::path first = shm_directory(*hosts, 0);
  const std::filesystem::path second = shm_directory(*hosts, 1);
  hosts.reset();
  CHECK_FALSE(std::filesystem::exists(first));
  CHECK_FALSE(std::filesystem::exists(second));
}
