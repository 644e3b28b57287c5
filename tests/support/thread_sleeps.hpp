#pragma once
// How often threads went to sleep, read from /proc: a test of a thread that
// should stay asleep while idle counts its voluntary context switches.

#include <filesystem>
#include <fstream>
#include <string>

namespace cannery::test {

// Voluntary context switches so far of this process's threads named `name`.
inline long sleeps_of_threads_named(const std::string& name) {
  long sleeps = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string thread_name;
    std::getline(comm, thread_name);
    if (thread_name != name) continue;
    std::ifstream status(task.path() / "status");
    const std::string field = "voluntary_ctxt_switches:";
    for (std::string line; std::getline(status, line);)
      if (line.rfind(field, 0) == 0) sleeps += std::stol(line.substr(field.size()));
  }
  return sleeps;
}

}  // namespace cannery::test
