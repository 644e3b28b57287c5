// put() objects reach local engines through shared memory: written once,
// mapped by every engine, not sent over the socket; the segment goes with the
// last ref. Either side can turn it off, and then the socket carries them.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <cannery/messaging/shared_array.hpp>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using cannery::test::Cluster;

namespace {

constexpr std::size_t arrays = 4;
constexpr std::size_t elements = 1 << 18;  // 2 MiB each: above the 1 MiB default
constexpr std::uint64_t payload = arrays * elements * sizeof(double);

std::map<std::string, std::vector<double>> weights() {
  std::map<std::string, std::vector<double>> w;
  for (std::size_t i = 0; i < arrays; ++i)
    w.emplace("w" + std::to_string(i), std::vector<double>(elements, 1.0));
  return w;
}

// The same weights, allocated in shared memory from the start.
std::map<std::string, cannery::SharedArray<double>> shared_weights() {
  std::map<std::string, cannery::SharedArray<double>> w;
  for (std::size_t i = 0; i < arrays; ++i) {
    cannery::SharedArray<double> array(elements);
    std::fill(array.begin(), array.end(), 1.0);
    w.emplace("w" + std::to_string(i), std::move(array));
  }
  return w;
}

// Segments this process made.
std::size_t own_segments() {
  return cannery::test::segments_of_process(::getpid());
}

bool no_own_segments_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (own_segments() != 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Runs 20 tasks summing every byte of a put object (weights() unless given);
// returns the controller's counters over that exercise.
template <class Weights = std::map<std::string, std::vector<double>>>
cannery::ControllerStats twenty_sums(cannery::Controller& controller,
                                     Weights (*make)() = &weights) {
  const cannery::ControllerStats before = controller.stats();
  {
    cannery::ObjectRef ref = controller.put(make());
    std::vector<cannery::AsyncResult> tasks;
    for (int i = 0; i < 20; ++i)
      tasks.push_back(controller.apply(cannery::any_engine, "sum_all", ref));
    for (auto& task : tasks)
      CHECK(task.get<double>(60s) == static_cast<double>(arrays * elements));
  }
  cannery::ControllerStats after = controller.stats();
  after.bytes_sent -= before.bytes_sent;
  after.shared_memory_bytes -= before.shared_memory_bytes;
  after.shared_memory_in_place_bytes -= before.shared_memory_in_place_bytes;
  after.shared_memory_sends -= before.shared_memory_sends;
  return after;
}

std::size_t engines_sharing(cannery::Controller& controller) {
  std::size_t n = 0;
  for (const cannery::EngineInfo& e : controller.engines())
    n += e.shared_memory ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("a put object goes to local engines through shared memory, once in all",
          "[cluster][shared_memory]") {
  const bool ipc = GENERATE(false, true);
  INFO((ipc ? "ipc" : "tcp"));
  Cluster cluster(2, ipc);
  auto& controller = cluster.controller;
  CHECK(engines_sharing(controller) == 2);

  const cannery::ControllerStats used = twenty_sums(controller);
  CHECK(used.shared_memory_bytes == payload);  // written once for both engines
  CHECK(used.shared_memory_sends == 2);
  CHECK(used.bytes_sent < payload / 4);  // the socket carried requests, not weights

  // The ref is gone: so is its segment (the engines' views went with the
  // release_request).
  CHECK(no_own_segments_within(5s));
}

TEST_CASE("shared arrays are put without being written anywhere", "[cluster][shared_memory]") {
  Cluster cluster(2, false);
  CHECK(engines_sharing(cluster.controller) == 2);
  const cannery::ControllerStats used = twenty_sums(cluster.controller, &shared_weights);
  CHECK(used.shared_memory_bytes == 0);
  CHECK(used.shared_memory_in_place_bytes == 2 * payload);  // named to each engine
  CHECK(used.shared_memory_sends == 2);
  CHECK(used.bytes_sent < payload / 4);
  CHECK(no_own_segments_within(5s));  // the arrays went with the ref

  // With shared memory off they travel over the socket like any array (each
  // engine its own copy: without relays, which would send it once).
  cannery::ControllerOptions options;
  options.shared_memory = false;
  options.relay = false;
  Cluster socket_only(2, false, options);
  const cannery::ControllerStats sent = twenty_sums(socket_only.controller, &shared_weights);
  CHECK(sent.shared_memory_in_place_bytes == 0);
  CHECK(sent.bytes_sent >= 2 * payload);
}

TEST_CASE("a SharedArray argument reaches local engines by name, not over the socket",
          "[cluster][shared_memory]") {
  Cluster cluster(2, true);
  auto& controller = cluster.controller;
  cannery::SharedArray<double> values(elements);
  std::fill(values.begin(), values.end(), 0.5);
  const cannery::ControllerStats before = controller.stats();
  for (cannery::AsyncResult& r : controller.broadcast("sum", values))
    CHECK(r.get<double>(60s) == 0.5 * elements);
  const cannery::ControllerStats after = controller.stats();
  CHECK(after.shared_memory_sends - before.shared_memory_sends == 2);
  CHECK(after.shared_memory_in_place_bytes - before.shared_memory_in_place_bytes ==
        2 * elements * sizeof(double));
  CHECK(after.shared_memory_bytes == before.shared_memory_bytes);  // nothing written
  CHECK(after.bytes_sent - before.bytes_sent < elements * sizeof(double) / 4);

  // A shared matrix arrives as an Eigen::Ref<const MatrixXd> parameter.
  cannery::SharedArray<double> m(512, 512);  // 2 MiB
  m.matrix().setIdentity();
  CHECK(controller.apply(cannery::any_engine, "trace_scaled", m, 2.0).get<double>(60s) == 1024.0);
  CHECK(controller.stats().shared_memory_sends - after.shared_memory_sends == 1);
}

TEST_CASE("with shared memory off on either side, put objects go over the socket",
          "[cluster][shared_memory]") {
  SECTION("the controller's option") {
    cannery::ControllerOptions options;
    options.shared_memory = false;
    options.relay = false;  // each engine its own copy (test_relayed_puts.cpp relays)
    Cluster cluster(2, false, options);
    CHECK(engines_sharing(cluster.controller) == 0);
    const cannery::ControllerStats used = twenty_sums(cluster.controller);
    CHECK(used.shared_memory_bytes == 0);
    CHECK(used.shared_memory_sends == 0);
    CHECK(used.bytes_sent >= 2 * payload);
  }
  SECTION("one engine's --no-shared-memory, beside one that shares") {
    cannery::Controller controller;
    cannery::EngineSpawnOptions no_sharing = cannery::test::engine_program();
    no_sharing.extra_args = {"--no-shared-memory"};
    controller.spawn_local_engines(1, no_sharing);
    controller.spawn_local_engines(1, cannery::test::engine_program());
    controller.wait_for_engines(2, cannery::test::engine_start_timeout);
    CHECK(engines_sharing(controller) == 1);
    const cannery::ControllerStats used = twenty_sums(controller);
    CHECK(used.shared_memory_bytes == payload);
    CHECK(used.shared_memory_sends == 1);
    CHECK(used.bytes_sent >= payload);  // to the engine that does not share
    CHECK(used.bytes_sent < 2 * payload);
  }
  CHECK(own_segments() == 0);
}

namespace {

// Resident memory of this process, and its peak since reset_peak_rss(), in bytes.
std::uint64_t status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
  }
  return 0;
}
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

}  // namespace

TEST_CASE("a put object is kept once, in shared memory, and an lvalue is not copied first",
          "[cluster][shared_memory]") {
  Cluster cluster(2, false);
  auto& controller = cluster.controller;
  REQUIRE(engines_sharing(controller) == 2);

  SECTION("an rvalue's memory goes when put() returns") {
    cannery::Buffer bytes = cannery::Buffer::take(std::vector<std::byte>(4 << 20, std::byte{7}));
    const std::weak_ptr<const void> original = bytes.owner();
    cannery::ObjectRef ref = controller.put(std::move(bytes));
    bytes = cannery::Buffer();  // in case the canner shared rather than took it
    CHECK(original.expired());  // the segment holds the only copy
    const auto back =
        controller.apply(cannery::any_engine, "echo", ref).get<std::vector<std::byte>>(60s);
    REQUIRE(back.size() == std::size_t{4} << 20);
    CHECK(back.front() == std::byte{7});
    CHECK(back.back() == std::byte{7});
  }
  SECTION("an lvalue is written from where it is, and later changes are not seen") {
    constexpr std::size_t n = std::size_t{8} << 20;  // 64 MiB
    std::vector<double> values(n, 1.0);
    reset_peak_rss();
    const std::uint64_t before = status_bytes("VmRSS");
    cannery::ObjectRef ref = controller.put(values);
    // No heap copy of the 64 MiB (pwrite does not map the segment here).
    CHECK(status_bytes("VmHWM") - before < n * sizeof(double) / 2);
    std::fill(values.begin(), values.end(), 2.0);
    CHECK(controller.apply(cannery::any_engine, "sum", ref).get<double>(60s) ==
          static_cast<double>(n));
  }
}

TEST_CASE("over the socket, a put lvalue is copied: later changes are not seen",
          "[cluster][shared_memory]") {
  cannery::ControllerOptions options;
  options.shared_memory = false;
  Cluster cluster(1, false, options);
  std::vector<double> values(elements, 1.0);
  cannery::ObjectRef ref = cluster.controller.put(values);
  std::fill(values.begin(), values.end(), 2.0);
  CHECK(cluster.controller.apply(cannery::any_engine, "sum", ref).get<double>(60s) ==
        static_cast<double>(elements));
}

TEST_CASE("a put segment truncated under a local engine fails the task, not the engine",
          "[cluster][shared_memory]") {
  Cluster cluster(1);
  auto& controller = cluster.controller;
  cannery::ObjectRef ref = controller.put(std::vector<double>(1 << 20, 1.0));  // 8 MiB
  CHECK(controller.apply(cannery::any_engine, "sum", ref).get<double>(30s) == 1 << 20);
  REQUIRE(controller.stats().shared_memory_bytes > 0);
  // Another process of this user truncates the controller's segments (they
  // are named after its pid). Reading them used to end the engine with SIGBUS.
  std::size_t truncated = 0;
  const std::string marker = "-" + std::to_string(::getpid()) + "-";
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("cannery-") && name.find(marker) != std::string::npos &&
        entry.file_size() >= (8u << 20)) {
      std::filesystem::resize_file(entry.path(), 0);
      ++truncated;
    }
  }
  REQUIRE(truncated >= 1);
  try {
    controller.apply(cannery::any_engine, "sum", ref).get<double>(30s);
    FAIL("expected a RemoteError");
  } catch (const cannery::RemoteError& e) {
    CHECK(e.type() == "cannery.io_error");
    CHECK_THAT(e.message(), Catch::Contains("truncated"));
  }
  // The engine lives on and serves; the next use of the ref says the data is lost.
  CHECK(controller.apply(cannery::any_engine, "add", 1.0, 2.0).get<double>(30s) == 3.0);
  try {
    controller.apply(cannery::any_engine, "sum", ref).get<double>(30s);
    FAIL("expected a RemoteError");
  } catch (const cannery::RemoteError& e) {
    CHECK_THAT(e.message(), Catch::Contains("put it again"));
  }
  CHECK(controller.stats().engines_died == 0);
}

TEST_CASE("a large lvalue given by value reaches local engines through shared memory once",
          "[cluster][shared_memory]") {
  Cluster cluster(2, false);
  auto& controller = cluster.controller;
  CHECK(engines_sharing(controller) == 2);
  const cannery::ControllerStats before = controller.stats();
  {
    const auto w = weights();
    // Each engine sleeps first, so that no task given the weights ends
    // before all 20 are submitted: the object stays cached throughout.
    std::vector<cannery::AsyncResult> sleeps;
    for (int id : controller.engine_ids())
      sleeps.push_back(controller.apply(id, "sleep_ms", std::int64_t{1000}));
    std::vector<cannery::AsyncResult> tasks;
    for (int i = 0; i < 20; ++i)
      tasks.push_back(controller.apply(cannery::any_engine, "sum_all", w));
    for (auto& task : tasks)
      CHECK(task.get<double>(60s) == static_cast<double>(arrays * elements));
    for (auto& sleep : sleeps)
      sleep.get(60s);
  }
  const cannery::ControllerStats after = controller.stats();
  CHECK(after.auto_puts - before.auto_puts == 1);
  CHECK(after.auto_put_reuses - before.auto_put_reuses == 19);
  CHECK(after.shared_memory_bytes - before.shared_memory_bytes == payload);
  CHECK(after.shared_memory_sends - before.shared_memory_sends == 2);
  CHECK(after.bytes_sent - before.bytes_sent < payload / 4);
  // Released with the last task: its segments are gone.
  CHECK(no_own_segments_within(5s));
}
