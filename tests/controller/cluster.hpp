#pragma once
// A Controller plus fake engines registered with it, for controller tests.

#include <memory>
#include <vector>

#include "fake_engine.hpp"

namespace cannery::test {

// Fast liveness so failure tests take a fraction of a second.
inline ControllerOptions fast_options() {
  ControllerOptions o;
  o.heartbeat = 50ms;
  o.allowed_misses = 4;
  o.log_sink = [](std::string_view) {};  // deaths and refusals are what these tests cause
  return o;
}

struct Cluster {
  explicit Cluster(std::size_t n, ControllerOptions options = fast_options(),
                   FakeEngineOptions engine_options = {})
      : controller(std::move(options)) {
    for (std::size_t i = 0; i < n; ++i)
      add(engine_options);
    controller.wait_for_engines(n, 5000ms);
  }

  FakeEngine& add(FakeEngineOptions options = {}) {
    engines.push_back(std::make_unique<FakeEngine>(controller.connection_info(), options));
    engines.back()->wait_registered();
    return *engines.back();
  }

  FakeEngine& operator[](std::size_t i) { return *engines.at(i); }

  Controller controller;  // declared first: outlives the engines
  std::vector<std::unique_ptr<FakeEngine>> engines;
};

}  // namespace cannery::test
