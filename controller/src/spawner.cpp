#include "spawner.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "cannery/canning/error.hpp"

extern char** environ;

namespace cannery::detail {
namespace {

constexpr auto reap_poll = std::chrono::milliseconds(10);

bool is_executable(const std::filesystem::path& p) {
  return ::access(p.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(p);
}

}  // namespace

std::filesystem::path resolve_engine_program(const EngineSpawnOptions& options) {
  if (!options.program.empty()) return options.program;
  if (const char* env = std::getenv("CANNERY_ENGINE"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = self.parent_path() / "cannery-engine";
    if (is_executable(beside)) return beside;
  }
  return "cannery-engine";
}

Spawner::~Spawner() {
  std::lock_guard lock(mutex_);
  for (Child& c : children_) {
    if (c.reaped) continue;
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
    c.reaped = true;
  }
}

void Spawner::spawn(std::size_t n, const EngineSpawnOptions& options,
                    const std::filesystem::path& connection_file) {
  const std::filesystem::path program = resolve_engine_program(options);
  // Local engines follow their controller: even if it is killed, they stop.
  std::vector<std::string> args{program.string(), "--connection-file", connection_file.string(),
                                "--exit-with-parent"};
  for (const auto& plugin : options.plugins) {
    args.emplace_back("--plugin");
    args.push_back(plugin);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  // A bare name is looked up on PATH, as a shell would.
  const bool search_path = program.string().find('/') == std::string::npos;
  std::lock_guard lock(mutex_);
  reap_exited_locked();
  for (std::size_t i = 0; i < n; ++i) {
    pid_t pid = 0;
    const int rc = search_path
                       ? ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ)
                       : ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
      throw error(errc::io_error,
                  "could not start engine program '" + program.string() +
                      "': " + std::strerror(rc) +
                      " (set EngineSpawnOptions::program or $CANNERY_ENGINE to its path, or put "
                      "cannery-engine on PATH)");
    }
    children_.push_back({pid});
  }
}

std::vector<int> Spawner::pids() const {
  std::lock_guard lock(mutex_);
  std::vector<int> out;
  for (const Child& c : children_)
    out.push_back(c.pid);
  return out;
}

std::vector<int> Spawner::running() {
  std::lock_guard lock(mutex_);
  reap_exited_locked();
  std::vector<int> out;
  for (const Child& c : children_)
    if (!c.reaped) out.push_back(c.pid);
  return out;
}

bool Spawner::reap_exited_locked() {
  bool all = true;
  for (Child& c : children_) {
    if (c.reaped) continue;
    const pid_t r = ::waitpid(c.pid, nullptr, WNOHANG);
    // ECHILD: someone else reaped it (a SIGCHLD handler of the program).
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
      c.reaped = true;
    } else {
      all = false;
    }
  }
  return all;
}

bool Spawner::wait_all_locked(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!reap_exited_locked()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(reap_poll);
  }
  return true;
}

void Spawner::terminate(std::chrono::milliseconds grace) {
  std::lock_guard lock(mutex_);
  if (wait_all_locked(grace)) return;
  for (const Child& c : children_)
    if (!c.reaped) ::kill(c.pid, SIGTERM);
  if (wait_all_locked(grace)) return;
  for (Child& c : children_) {
    if (c.reaped) continue;
    ::kill(c.pid, SIGKILL);
    ::waitpid(c.pid, nullptr, 0);
    c.reaped = true;
  }
}

}  // namespace cannery::detail
