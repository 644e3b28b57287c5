// The control plane with many engines: a hundred engines registering at the
// same moment all register once, none lost, none repeated, and their
// heartbeats keep all of them alive while the controller sends bulk data to
// every one of them. The engines are real Engines (the library that
// cannery-engine runs), on threads of this process, so that a hundred of
// them fit this machine in every build, the sanitizers' included.

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <cannery/engine.hpp>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t engines = 100;

// `n` engines of `controller`, each running on a thread of its own from the
// moment all are built; stopped and joined when this goes.
class EngineThreads {
 public:
  EngineThreads(const cannery::Controller& controller, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      cannery::EngineOptions options;
      options.connection = controller.connection_info();
      options.shared_memory = false;  // a hundred probes of /dev/shm are not what this tests
      options.log_sink = [](std::string_view) {};
      engines_.push_back(std::make_unique<cannery::Engine>(std::move(options)));
      cannery::register_builtin_functions(engines_.back()->functions());
    }
    // All at once: the storm.
    for (auto& engine : engines_)
      threads_.emplace_back([e = engine.get()] { e->run(); });
  }
  ~EngineThreads() {
    for (auto& engine : engines_)
      engine->stop();
    for (auto& thread : threads_)
      thread.join();
  }
  EngineThreads(const EngineThreads&) = delete;
  EngineThreads& operator=(const EngineThreads&) = delete;

  std::uint64_t controller_losses() const {
    std::uint64_t sum = 0;
    for (const auto& engine : engines_)
      sum += engine->stats().controller_losses;
    return sum;
  }

 private:
  std::vector<std::unique_ptr<cannery::Engine>> engines_;
  std::vector<std::thread> threads_;
};

}  // namespace

TEST_CASE("a hundred engines registering at once all register once and stay alive under load",
          "[cluster][scale]") {
  cannery::Controller controller;  // default liveness: 500 ms heartbeats
  EngineThreads threads(controller, engines);
  controller.wait_for_engines(engines, 120s);

  const std::vector<cannery::EngineInfo> registered = controller.engines();
  CHECK(registered.size() == engines);
  for (const cannery::EngineInfo& e : registered) {
    INFO("engine " << e.id);
    CHECK(e.alive);
    CHECK(e.registrations == 1);  // no registration lost and asked again
  }

  // Bulk data to every engine for several heartbeat periods.
  const auto until = std::chrono::steady_clock::now() + 3s;
  int rounds = 0;
  while (std::chrono::steady_clock::now() < until && rounds < 20) {
    std::vector<double> block(1 << 19, 1.0);  // 4 MiB, to each of the hundred
    for (auto& r : controller.broadcast("nbytes", std::move(block)))
      CHECK(r.get<std::int64_t>(120s) == (std::int64_t{1} << 19) * 8);
    ++rounds;
  }
  INFO(rounds << " broadcasts of 400 MB in all");
  const cannery::ControllerStats stats = controller.stats();
  CHECK(stats.engines_died == 0);
  CHECK(stats.re_registrations == 0);
  CHECK(threads.controller_losses() == 0);
  CHECK(controller.engine_ids().size() == engines);
}
