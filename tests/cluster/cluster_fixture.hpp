#pragma once
// A controller with real cannery-engine processes, for the cluster tests.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "test_support.hpp"

namespace cannery::test {

using namespace std::chrono_literals;

// Engines start in a second or two; under the sanitizers in several.
inline constexpr auto engine_start_timeout = std::chrono::seconds(60);

inline EngineSpawnOptions engine_program() {
  EngineSpawnOptions spawn;
  spawn.program = CANNERY_ENGINE_PROGRAM;
  return spawn;
}

// `engines` local engines over tcp on 127.0.0.1 (or ipc in a temp dir).
struct Cluster {
  explicit Cluster(std::size_t engines, bool ipc = false, ControllerOptions options = {})
      : controller(configure(std::move(options), ipc, dir)) {
    controller.spawn_local_engines(engines, engine_program());
    controller.wait_for_engines(engines, engine_start_timeout);
  }

  static ControllerOptions configure(ControllerOptions options, bool ipc, const TempDir& dir) {
    if (ipc) options.endpoint = "ipc://" + (dir.path() / "engines").string();
    return options;
  }

  TempDir dir;
  Controller controller;
};

}  // namespace cannery::test
