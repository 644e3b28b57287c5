#pragma once
// Shared by the data-plane tests: an engine's counters, and waiting for the
// controller to see an engine's death.

#include <cannery/controller.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <thread>

namespace cannery::test {

using EngineCounters = std::map<std::string, std::uint64_t>;

inline EngineCounters engine_counters(Controller& controller, int engine) {
  return controller.apply(engine, "cannery.engine_stats")
      .get<EngineCounters>(std::chrono::seconds(30));
}

inline int pid_of(const Controller& controller, int engine) {
  for (const EngineInfo& e : controller.engines())
    if (e.id == engine) return e.pid;
  return -1;
}

// Whether the controller declared `engine` dead within `timeout`.
inline bool declared_dead_within(const Controller& controller, int engine,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const EngineInfo& e : controller.engines())
      if (e.id == engine && !e.alive) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace cannery::test
