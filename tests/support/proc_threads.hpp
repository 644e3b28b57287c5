#pragma once
// A process's threads as /proc shows them: how often they went to sleep (a
// test of a thread that should stay asleep while idle counts its voluntary
// context switches) and their nice values (the engine's work priority).

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cannery::test {

// The /proc task directories of process `pid`'s threads named `name`
// (/proc/self when pid is 0).
inline std::vector<std::filesystem::path> threads_named(const std::string& name, pid_t pid = 0) {
  const std::filesystem::path tasks =
      std::filesystem::path("/proc") / (pid == 0 ? "self" : std::to_string(pid)) / "task";
  std::vector<std::filesystem::path> found;
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    std::ifstream comm(task.path() / "comm");
    std::string thread_name;
    std::getline(comm, thread_name);
    if (thread_name == name) found.push_back(task.path());
  }
  return found;
}

// Voluntary context switches so far of this process's threads named `name`.
inline long sleeps_of_threads_named(const std::string& name) {
  long sleeps = 0;
  for (const auto& task : threads_named(name)) {
    std::ifstream status(task / "status");
    const std::string field = "voluntary_ctxt_switches:";
    for (std::string line; std::getline(status, line);)
      if (line.rfind(field, 0) == 0) sleeps += std::stol(line.substr(field.size()));
  }
  return sleeps;
}

// The nice value of the thread whose /proc task directory is `task`: field
// 19 of its stat, the 17th after the command name's closing parenthesis.
inline int nice_of(const std::filesystem::path& task) {
  std::ifstream stat(task / "stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 1));
  std::string field;
  for (int i = 0; i < 17; ++i)
    fields >> field;
  return std::stoi(field);
}

}  // namespace cannery::test
