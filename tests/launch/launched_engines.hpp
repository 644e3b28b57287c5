#pragma once
// Checks shared by the launcher tests: the ranks the engines reported, and a
// task on every engine.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <vector>

namespace cannery::test {

// The ranks of the live engines, as they reported them at registration.
inline std::set<long long> ranks_of(const Controller& controller) {
  std::set<long long> ranks;
  for (const EngineInfo& e : controller.engines())
    if (e.alive) ranks.insert(e.rank);
  return ranks;
}

// Runs a task on every engine, which answers with its pid, and returns
// those pids (to check later that the engines stopped).
inline std::vector<int> run_on_every_engine(Controller& controller) {
  std::vector<int> pids;
  for (const EngineInfo& e : controller.engines()) {
    CHECK(controller.apply(e.id, "pid").get<std::int64_t>(std::chrono::seconds(30)) == e.pid);
    pids.push_back(e.pid);
  }
  return pids;
}

}  // namespace cannery::test
