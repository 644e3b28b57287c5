// put: objects cached on engines, sent once per engine, released with the last ref.
#include <catch2/catch.hpp>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

TEST_CASE("a put object travels once per engine however many tasks use it", "[controller]") {
  Cluster cluster(2);
  constexpr std::size_t n = 1 << 17;  // 1 MiB of weights
  const std::uint64_t before = cluster.controller.bytes_sent();
  ObjectRef weights = cluster.controller.put(ramp(n));
  CHECK(weights.nbytes() >= n * 8);
  CHECK(cluster.controller.bytes_sent() == before);  // lazily: nothing sent yet

  std::vector<AsyncResult> results;
  for (int i = 0; i < 20; ++i)
    results.push_back(cluster.controller.apply(any_engine, "nbytes", weights));
  for (auto& r : results)
    CHECK(r.get<std::int64_t>(5000ms) == static_cast<std::int64_t>(n * 8));
  CHECK(cluster[0].count("apply_request") > 0);
  CHECK(cluster[1].count("apply_request") > 0);

  // 20 tasks, 2 engines: the weights moved twice, not 20 times.
  const std::uint64_t sent = cluster.controller.bytes_sent() - before;
  CHECK(sent >= 2 * n * 8);
  CHECK(sent < 3 * n * 8);
  CHECK(cluster[0].count("put_request") == 1);
  CHECK(cluster[1].count("put_request") == 1);
  CHECK(cluster[0].put_bytes() >= n * 8);
  // The put came before the first request that used it.
  auto log = cluster[0].log();
  auto put = std::find(log.begin(), log.end(), "put_request");
  auto first_apply = std::find(log.begin(), log.end(), "apply_request");
  CHECK(put < first_apply);

  // Broadcast uses the cache too.
  for (auto& r : cluster.controller.broadcast("nbytes", weights))
    CHECK(r.get<std::int64_t>(5000ms) == static_cast<std::int64_t>(n * 8));
  CHECK(cluster[0].count("put_request") == 1);
}

TEST_CASE("dropping the last ref releases the object on every engine holding it", "[controller]") {
  Cluster cluster(3);
  std::uint64_t id = 0;
  {
    ObjectRef ref = cluster.controller.put(std::string("cached text"));
    id = ref.id();
    ObjectRef copy = ref;
    CHECK(copy.use_count() == 2);
    CHECK(cluster.controller.apply(0, "echo", ref).get<std::string>(5000ms) == "cached text");
    CHECK(cluster.controller.apply(1, "echo", copy).get<std::string>(5000ms) == "cached text");
    ref = ObjectRef();  // one copy left: nothing released
    std::this_thread::sleep_for(50ms);
    CHECK(cluster[0].released_refs().empty());
  }
  REQUIRE(wait_until([&] { return cluster[0].released_refs().size() == 1; }));
  REQUIRE(wait_until([&] { return cluster[1].released_refs().size() == 1; }));
  CHECK(cluster[0].released_refs().front() == id);
  CHECK(cluster[2].released_refs().empty());  // it never held it
  CHECK(cluster[2].count("put_request") == 0);
}

TEST_CASE("a ref dropped while its tasks run is released after them", "[controller]") {
  Cluster cluster(1);
  AsyncResult held;
  {
    ObjectRef ref = cluster.controller.put(ramp(4096));
    held = cluster.controller.apply(0, "hold");
    auto uses = cluster.controller.apply(0, "nbytes", ref);
    CHECK(uses.get<std::int64_t>(5000ms) == 4096 * 8);
    auto pending = cluster.controller.apply(0, "reply_after_ms", 100.0);
    auto using_ref = cluster.controller.apply(0, "nbytes", ref);
    // The last handle goes here, while using_ref may still be queued.
    ref = ObjectRef();
    CHECK(using_ref.get<std::int64_t>(5000ms) == 4096 * 8);
    pending.get(5000ms);
  }
  REQUIRE(wait_until([&] { return cluster[0].released_refs().size() == 1; }));
  cluster[0].release_held();
  held.get(5000ms);
}

TEST_CASE("a ref given as a keyword argument is put before the call", "[controller]") {
  Cluster cluster(1);
  ObjectRef ref = cluster.controller.put(ramp(2048));
  auto r = cluster.controller.apply(0, "echo", 7, kw("weights", ref));
  // Registered C++ functions take no keyword arguments: the engine refuses
  // the call, which it could read only once the put had arrived.
  CHECK(capture_error([&] { r.get(5000ms); }).code() == errc::invalid_argument);
  CHECK(cluster[0].count("put_request") == 1);
}

TEST_CASE("a ref from another controller is refused", "[controller]") {
  Cluster cluster(1);
  Controller other(fast_options());
  ObjectRef foreign = other.put(std::string("not yours"));
  auto r = cluster.controller.apply(0, "echo", foreign);
  CHECK(capture_error([&] { r.get(5000ms); }).code() == errc::invalid_argument);
}
