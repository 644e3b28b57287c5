// apply to a target and to any engine, results, remote errors.
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

TEST_CASE("apply to any engine and to a given engine", "[controller]") {
  Cluster cluster(2);
  Controller& c = cluster.controller;
  CHECK(c.apply(any_engine, "add", 2, 40).get<double>(5000ms) == 42);
  CHECK(c.apply(any_engine, "add", 0.5, 0.25).get<double>(5000ms) == 0.75);
  for (int id : {0, 1}) {
    auto r = c.apply(id, "whoami");
    CHECK(r.get<std::string>(5000ms) == cluster[static_cast<std::size_t>(id)].uuid());
    CHECK(r.engine_id() == id);
    CHECK(r.ready());
  }
}

TEST_CASE("results are Objects by default and views of the received frames", "[controller]") {
  Cluster cluster(1);
  std::vector<double> data = ramp(1000);
  auto r = cluster.controller.apply(any_engine, "echo", data);
  Object o = r.get(5000ms);
  REQUIRE(o.kind() == Object::Kind::ndarray);
  CHECK(o.as<std::vector<double>>() == data);
  auto view = r.get<std::span<const double>>(5000ms);
  CHECK(std::vector<double>(view.begin(), view.end()) == data);
}

TEST_CASE("an lvalue argument may die right after apply returns", "[controller]") {
  Cluster cluster(1);
  AsyncResult r;
  {
    std::vector<double> data = ramp(4096, 1.0);  // out of band: canning borrows it
    r = cluster.controller.apply(any_engine, "nbytes", data);
    std::fill(data.begin(), data.end(), -1.0);
  }
  CHECK(r.get<std::int64_t>(5000ms) == 4096 * 8);
  // And what arrived is what was passed, not the overwritten memory.
  std::vector<double> expected = ramp(4096, 1.0);
  AsyncResult echoed;
  {
    std::vector<double> data = expected;
    echoed = cluster.controller.apply(any_engine, "echo", data);
    std::fill(data.begin(), data.end(), -1.0);
  }
  CHECK(echoed.get<std::vector<double>>(5000ms) == expected);
}

namespace {

// Applies "echo" to `n` doubles sent as owned bytes (without a copy, so their
// owner lives as long as the request's frame); returns a watch on the owner.
std::weak_ptr<std::vector<double>> echo_owned(Cluster& cluster, std::size_t n, AsyncResult& r) {
  auto payload = std::make_shared<std::vector<double>>(ramp(n));
  const Buffer bytes(payload->data(), payload->size() * sizeof(double), payload);
  r = cluster.controller.apply(any_engine, "echo", bytes);
  return payload;
}

// Whether `watch` expires within 5 s (the I/O thread, or libzmq after a
// send, may hold the owner a moment longer).
bool expires_soon(const std::weak_ptr<std::vector<double>>& watch) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!watch.expired() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  return watch.expired();
}

}  // namespace

TEST_CASE("a finished task's request frames are kept by its AsyncResult, and go with it",
          "[controller]") {
  Cluster cluster(1);
  AsyncResult r;
  const std::weak_ptr<std::vector<double>> watch = echo_owned(cluster, 1024, r);  // 8 KiB
  r.get(5000ms);
  // Handed back to the result before it was settled, so that the caller's
  // thread, which made them, frees them (cheaply for malloc).
  CHECK_FALSE(watch.expired());
  r = AsyncResult();
  CHECK(expires_soon(watch));  // then gone
}

TEST_CASE("a large request goes when its task ends, not with its AsyncResult", "[controller]") {
  Cluster cluster(1);
  AsyncResult r;
  const std::weak_ptr<std::vector<double>> watch = echo_owned(cluster, 1 << 17, r);  // 1 MiB
  r.get(5000ms);
  // The result is kept; its arguments are not.
  CHECK(expires_soon(watch));
  CHECK(r.get<Buffer>(5000ms).size() == (std::size_t{1} << 17) * sizeof(double));
}

TEST_CASE("a remote error arrives as RemoteError with its fields", "[controller]") {
  Cluster cluster(1);
  auto r = cluster.controller.apply(any_engine, "fail", std::string("boom"));
  try {
    r.get(5000ms);
    FAIL("expected RemoteError");
  } catch (const RemoteError& e) {
    CHECK(e.code() == errc::remote_error);
    CHECK(e.engine_id() == 0);
    CHECK(e.function() == "fail");
    CHECK(e.type() == "std::runtime_error");
    CHECK(e.message() == "boom");
    CHECK_THAT(e.what(), Catch::Contains("engine 0") && Catch::Contains("boom"));
  }
  // A cannery::error on the engine keeps its code in the type.
  auto unknown = cluster.controller.apply(any_engine, "no_such_function");
  try {
    unknown.get(5000ms);
    FAIL("expected RemoteError");
  } catch (const RemoteError& e) {
    CHECK(e.type() == "cannery.unknown_function");
    CHECK(e.code() == errc::unknown_function);  // the code survives the wire
  }
}

TEST_CASE("apply to an unknown engine id fails the result", "[controller]") {
  Cluster cluster(1);
  auto r = cluster.controller.apply(5, "whoami");
  CHECK(capture_error([&] { r.get(5000ms); }).code() == errc::invalid_argument);
  CHECK(capture_error([&] { AsyncResult().get(10ms); }).code() == errc::invalid_argument);
}

TEST_CASE("waiting for a slow result times out without ending the task", "[controller]") {
  Cluster cluster(1);
  auto r = cluster.controller.apply(any_engine, "reply_after_ms", 300.0);
  CHECK_FALSE(r.wait(10ms));
  CHECK(capture_error([&] { r.get(10ms); }).code() == errc::timeout);
  CHECK(r.get<double>(5000ms) == 300.0);
}

TEST_CASE("many pipelined tasks over two engines all complete", "[controller]") {
  Cluster cluster(2);
  std::vector<AsyncResult> results;
  for (int i = 0; i < 2000; ++i)
    results.push_back(cluster.controller.apply(any_engine, "add", i, 1));
  for (int i = 0; i < 2000; ++i)
    REQUIRE(results[static_cast<std::size_t>(i)].get<double>(10000ms) == i + 1);
  CHECK(cluster[0].count("apply_request") > 0);
  CHECK(cluster[1].count("apply_request") > 0);
}

TEST_CASE("apply from several threads at once", "[controller]") {
  Cluster cluster(2);
  std::vector<std::thread> threads;
  std::atomic<int> right{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (cluster.controller.apply(any_engine, "add", t, i).get<double>(10000ms) == t + i)
          ++right;
      }
    });
  }
  for (auto& th : threads)
    th.join();
  CHECK(right.load() == 800);
}

// Not run by default (timing is not a test); `controller_tests "[perf]"`
// prints how many small tasks per second the controller pipelines to two
// in-process engines (themselves a large part of the cost).
TEST_CASE("pipelined small tasks per second", "[.][perf]") {
  Cluster cluster(2);
  constexpr int n = 100000;
  std::vector<AsyncResult> results;
  results.reserve(n);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    results.push_back(cluster.controller.apply(any_engine, "add", i, 1));
  for (auto& r : results)
    r.wait(60000ms);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  WARN(n / took.count() << " tasks/s");
  CHECK(results.back().get<double>(10ms) == n);
}
