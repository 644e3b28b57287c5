#include "spawner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
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

std::vector<std::string> engine_arguments(const EngineSpawnOptions& options) {
  const int work_nice = options.work_nice.value_or(0);
  if (work_nice < 0 || work_nice > 19) {
    throw error(errc::invalid_argument, "EngineSpawnOptions::work_nice is " +
                                            std::to_string(work_nice) +
                                            ": give a nice increment from 0 (off) to 19");
  }
  std::vector<std::string> args{"--exit-with-parent"};
  if (work_nice > 0) args.insert(args.end(), {"--work-nice", std::to_string(work_nice)});
  for (const auto& plugin : options.plugins) {
    args.emplace_back("--plugin");
    args.push_back(plugin);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  return args;
}

void Spawner::spawn(std::size_t n, const EngineSpawnOptions& options,
                    const std::filesystem::path& connection_file) {
  const std::filesystem::path program = resolve_engine_program(options);
  // Local engines follow their controller: even if it is killed, they stop.
  Launch launch;
  launch.argv = {program.string(), "--connection-file", connection_file.string()};
  std::ranges::move(engine_arguments(options), std::back_inserter(launch.argv));
  launch.label = "local engine " + program.string();
  for (std::size_t i = 0; i < n; ++i)
    start(launch);
}

namespace {

// File actions and standard input for one Launch; closes what it opened.
class ChildIo {
 public:
  explicit ChildIo(const Launch& launch) {
    posix_spawn_file_actions_init(&actions_);
    if (!launch.input.empty()) {
      // A socket, not a pipe: writing to a child that already exited must
      // fail with EPIPE (MSG_NOSIGNAL), not kill us with SIGPIPE.
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, input_) != 0) {
        throw error(errc::io_error, std::string("could not make the standard input of '") +
                                        launch.argv.front() + "': " + std::strerror(errno));
      }
      posix_spawn_file_actions_adddup2(&actions_, input_[1], 0);
    }
    if (!launch.output.empty()) {
      posix_spawn_file_actions_addopen(&actions_, 1, launch.output.c_str(),
                                       O_WRONLY | O_CREAT | O_APPEND, 0600);
      posix_spawn_file_actions_adddup2(&actions_, 1, 2);
    }
  }
  ~ChildIo() {
    posix_spawn_file_actions_destroy(&actions_);
    for (int fd : input_)
      if (fd >= 0) ::close(fd);
  }
  ChildIo(const ChildIo&) = delete;
  ChildIo& operator=(const ChildIo&) = delete;

  const posix_spawn_file_actions_t* actions() const { return &actions_; }
  // After the spawn: hands `input` over and closes our end. A child that is
  // gone already is reported by its exit status, not here.
  void give(const std::string& input) {
    if (input_[0] < 0) return;
    ::close(input_[1]);
    input_[1] = -1;
    for (std::size_t sent = 0; sent < input.size();) {
      const ssize_t n = ::send(input_[0], input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::close(input_[0]);
    input_[0] = -1;
  }

 private:
  posix_spawn_file_actions_t actions_;
  int input_[2] = {-1, -1};  // ours, the child's
};

// The last lines of a launcher's output, for an error message.
std::string output_tail(const std::filesystem::path& output) {
  std::ifstream in(output, std::ios::binary | std::ios::ate);
  if (!in) return {};
  constexpr std::streamoff window = 1024;
  const std::streamoff size = in.tellg();
  in.seekg(std::max<std::streamoff>(0, size - window));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

// Starts `launch` and hands it its input; throws io_error when it cannot.
pid_t spawn_child(Launch& launch) {
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e)
    environment.emplace_back(*e);
  environment.insert(environment.end(), launch.environment.begin(), launch.environment.end());
  std::vector<char*> argv, envp;
  for (auto& a : launch.argv)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : environment)
    envp.push_back(e.data());
  envp.push_back(nullptr);

  ChildIo io(launch);
  const bool search_path = launch.argv.front().find('/') == std::string::npos;
  pid_t pid = 0;
  const int rc =
      search_path ? ::posix_spawnp(&pid, argv[0], io.actions(), nullptr, argv.data(), envp.data())
                  : ::posix_spawn(&pid, argv[0], io.actions(), nullptr, argv.data(), envp.data());
  if (rc != 0) {
    throw error(errc::io_error,
                "could not start '" + launch.argv.front() + "' (" + launch.label +
                    "): " + std::strerror(rc) +
                    " (give its full path, or put it on PATH; for the engine program, set "
                    "EngineSpawnOptions::program or $CANNERY_ENGINE)");
  }
  io.give(launch.input);
  return pid;
}

}  // namespace

void Spawner::start(Launch launch) {
  std::lock_guard lock(mutex_);
  reap_exited_locked();
  const pid_t pid = spawn_child(launch);
  children_.push_back({pid, launch.label, launch.output, launch.launcher});
}

RunOutcome run_to_end(Launch launch, std::chrono::milliseconds timeout) {
  const pid_t pid = spawn_child(launch);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {-1, launch.label + " did not end within " + std::to_string(timeout.count()) +
                      " ms and was killed"};
    }
    std::this_thread::sleep_for(reap_poll);
  }
  RunOutcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, {}};
  if (!launch.output.empty()) {
    std::ifstream in(launch.output, std::ios::binary);
    outcome.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  if (outcome.status != 0) {
    outcome.output =
        launch.label + " " + describe_status(status) + ": " + output_tail(launch.output);
  }
  return outcome;
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
    if (!c.reaped && !c.launcher) out.push_back(c.pid);
  return out;
}

std::vector<std::string> Spawner::failures() {
  std::lock_guard lock(mutex_);
  reap_exited_locked();
  std::vector<std::string> out;
  for (const Child& c : children_) {
    if (!c.reaped || c.status == 0) continue;
    std::string line =
        c.label + " (pid " + std::to_string(c.pid) + ") " + describe_status(c.status);
    if (const std::string tail = c.output.empty() ? "" : output_tail(c.output); !tail.empty()) {
      line += ", its output ending: " + tail;
    }
    out.push_back(std::move(line));
  }
  return out;
}

bool Spawner::reap_exited_locked() {
  bool all = true;
  for (Child& c : children_) {
    if (c.reaped) continue;
    int status = 0;
    const pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    // ECHILD: someone else reaped it (a SIGCHLD handler of the program), and
    // its status is not ours to know.
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
      c.status = r == c.pid ? status : 0;
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

void Spawner::track(BatchJob job) {
  std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
}

std::vector<std::string> Spawner::jobs() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  for (const BatchJob& job : jobs_) {
    std::string line = "batch job " + job.id + " (its output: " + job.output.string() + ")";
    // A job that started and failed says why there (no srun, a module missing).
    if (const std::string tail = output_tail(job.output); !tail.empty())
      line += ", its output ending: " + tail;
    out.push_back(std::move(line));
  }
  return out;
}

void Spawner::terminate(std::chrono::milliseconds grace) {
  std::lock_guard lock(mutex_);
  for (const BatchJob& job : jobs_) {
    try {
      Launch scancel;
      scancel.argv = {job.scancel.string(), job.id};
      scancel.label = job.scancel.string() + " " + job.id;
      scancel.output = job.output.parent_path() / ("scancel-" + job.id + ".log");
      run_to_end(std::move(scancel), std::chrono::seconds(10));
    } catch (const error&) {
      // No scancel to run: the job ends at its time limit.
    }
  }
  jobs_.clear();
  reap_exited_locked();
  for (const Child& c : children_)
    if (!c.reaped && c.launcher) ::kill(c.pid, SIGTERM);
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
