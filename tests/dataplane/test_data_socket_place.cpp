// Where engines bind their data sockets when they reach the controller over
// ipc: beside the controller's socket, in its directory (which its owner
// removes, with the socket file of an engine killed before it could), or in
// Linux's abstract namespace when the controller's socket is there; and
// objects still move engine to engine from there.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"

using namespace std::chrono_literals;
using cannery::test::Cluster;

namespace {

constexpr std::int64_t placed_doubles = 100'000;

// A kept result made on one engine and summed on the other: fetched from
// the first one's data socket.
void check_object_moves(cannery::Controller& controller) {
  cannery::ApplyOptions keep;
  keep.keep_result = true;
  cannery::AsyncResult made =
      controller.apply_with(keep, cannery::any_engine, "ramp", placed_doubles);
  const cannery::ObjectRef ramp = made.get<cannery::ObjectRef>(30s);
  const std::vector<int> ids = controller.engine_ids();
  const int other = ids.front() == made.engine_id() ? ids.back() : ids.front();
  REQUIRE(other != made.engine_id());
  CHECK(controller.apply(other, "sum", ramp).get<double>(30s) ==
        cannery::test::iota_sum(placed_doubles));
  CHECK(controller.stats().fetch_requests == 1);
}

}  // namespace

TEST_CASE("over ipc, engines bind their data sockets beside the controller's socket",
          "[dataplane]") {
  Cluster cluster(2, true);
  // The controller's socket is <dir>/engines (cluster_fixture.hpp).
  const std::string beside = "ipc://" + cluster.dir.path().string() + "/engines-data-";
  std::vector<std::filesystem::path> sockets;
  for (const cannery::EngineInfo& engine : cluster.controller.engines()) {
    INFO(engine.data_endpoint);
    REQUIRE(engine.data_endpoint.rfind(beside, 0) == 0);
    sockets.emplace_back(engine.data_endpoint.substr(6));
    CHECK(std::filesystem::is_socket(sockets.back()));
  }
  check_object_moves(cluster.controller);

  // Killed, an engine leaves its socket file, in the directory the
  // controller's owner removes, not among everyone's temporary files.
  const cannery::EngineInfo victim = cluster.controller.engines().front();
  REQUIRE(::kill(victim.pid, SIGKILL) == 0);
  REQUIRE(cannery::test::declared_dead_within(cluster.controller, victim.id, 30s));
  CHECK(std::filesystem::is_socket(sockets.front()));
  const std::string uuid =
      sockets.front().filename().string().substr(std::string("engines-data-").size());
  CHECK_FALSE(
      std::filesystem::exists(std::filesystem::temp_directory_path() / ("cannery-data-" + uuid)));
}

TEST_CASE("a controller in the abstract namespace has engines bind theirs there too",
          "[dataplane]") {
  cannery::ControllerOptions options;
  const std::string name = "@cannery-test-" + std::to_string(::getpid()) + "-engines";
  options.endpoint = "ipc://" + name;
  cannery::Controller controller(options);
  controller.spawn_local_engines(2, cannery::test::engine_program());
  controller.wait_for_engines(2, cannery::test::engine_start_timeout);
  for (const cannery::EngineInfo& engine : controller.engines()) {
    INFO(engine.data_endpoint);
    CHECK(engine.data_endpoint.rfind("ipc://" + name + "-data-", 0) == 0);
  }
  check_object_moves(controller);
}
