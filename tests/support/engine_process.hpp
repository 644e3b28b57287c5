#pragma once
// A process started by a test (cannery-engine, CANNERY_ENGINE_PROGRAM, unless
// another program is named), its output in a file the test reads; killed
// when the test ends, even on failure.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace cannery::test {

// A child process running `program` with `args`; its standard output and
// error both to `output` (a file the test reads, or /dev/null). Its
// environment is this process's plus `environment` ("NAME=value" each).
class Program {
 public:
  Program(const std::string& program, std::vector<std::string> args,
          const std::filesystem::path& output = "/dev/null",
          std::vector<std::string> environment = {}) {
    std::vector<char*> envp;
    for (char** e = environ; *e != nullptr; ++e)
      envp.push_back(*e);
    for (auto& e : environment)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    args.insert(args.begin(), program);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    REQUIRE(::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);
  }
#ifdef CANNERY_ENGINE_PROGRAM
  // cannery-engine with `args`.
  explicit Program(std::vector<std::string> args, const std::filesystem::path& output = "/dev/null",
                   std::vector<std::string> environment = {})
      : Program(CANNERY_ENGINE_PROGRAM, std::move(args), output, std::move(environment)) {}
#endif
  ~Program() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // The exit status, or -1 if it did not exit within `timeout`.
  int exit_status_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  pid_t pid() const {
    return pid_;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace cannery::test
