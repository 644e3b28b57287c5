// apply, broadcast and map with real engine processes, over tcp and ipc.

#include <Eigen/Core>
#include <numeric>
#include <set>

#include "cluster_fixture.hpp"

using namespace std::chrono_literals;
using cannery::test::Cluster;

TEST_CASE("apply, broadcast and map give the right results over tcp and ipc", "[cluster]") {
  const bool ipc = GENERATE(false, true);
  INFO((ipc ? "ipc" : "tcp"));
  Cluster cluster(2, ipc);
  auto& controller = cluster.controller;
  REQUIRE(controller.engines().size() == 2);

  // One message with a matrix, a vector, a double, an integer and a string.
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(30, 30);
  std::vector<double> v(100000, 0.5);
  auto described = controller
                       .apply(controller.engines().front().id, "describe", m, v, 2.5,
                              std::int64_t{42}, std::string("hello"))
                       .get<std::string>(30s);
  CHECK(described.find("hello") != std::string::npos);

  CHECK(controller.apply(cannery::any_engine, "add", 2.0, 3.5).get<double>(30s) == 5.5);
  CHECK(controller.apply(cannery::any_engine, "trace_scaled", m, 2.0).get<double>(30s) == 60.0);
  CHECK(controller.apply(cannery::any_engine, "sum", std::vector<double>(1000, 0.25))
            .get<double>(30s) == 250.0);

  auto replies = controller.broadcast("pid");
  REQUIRE(replies.size() == 2);
  std::set<std::int64_t> pids;
  for (auto& reply : replies)
    pids.insert(reply.get<std::int64_t>(30s));
  CHECK(pids.size() == 2);  // two different processes answered

  std::vector<double> xs(1000);
  std::iota(xs.begin(), xs.end(), 0.0);
  for (auto scheme : {cannery::Scheme::leastload, cannery::Scheme::lru, cannery::Scheme::twobin,
                      cannery::Scheme::random}) {
    cannery::MapOptions options;
    options.scheme = scheme;
    options.chunk_size = 64;
    auto squares = controller.map("square", options, xs).get<double>(60s);
    REQUIRE(squares.size() == xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i)
      CHECK(squares[i] == xs[i] * xs[i]);
  }
  cannery::MapOptions unordered;
  unordered.ordered = false;
  unordered.chunk_size = 10;
  auto any_order = controller.map("square", unordered, xs).get<double>(60s);
  std::multiset<double> got(any_order.begin(), any_order.end());
  std::multiset<double> want;
  for (double x : xs)
    want.insert(x * x);
  CHECK(got == want);
}

TEST_CASE("a burst of tasks for one engine travels in batches", "[cluster]") {
  Cluster cluster(1);
  auto& controller = cluster.controller;
  std::vector<double> xs(640);
  std::iota(xs.begin(), xs.end(), 0.0);
  cannery::MapOptions one_each;
  one_each.chunk_size = 1;
  const auto sent_before = controller.stats().messages_sent;
  const auto received_before = controller.stats().messages_received;
  auto squares = controller.map("square", one_each, xs).get<double>(60s);
  REQUIRE(squares.size() == xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i)
    CHECK(squares[i] == xs[i] * xs[i]);
  // 640 requests and 640 replies, one message each, would be 1280 messages;
  // batches of up to 64 (the in-flight window) need about 20, plus heartbeats.
  const auto sent = controller.stats().messages_sent - sent_before;
  const auto received = controller.stats().messages_received - received_before;
  INFO("sent " << sent << ", received " << received);
  CHECK(sent < 200);
  CHECK(received < 200);
}

TEST_CASE("an argument of the wrong type names the function, the position and the types",
          "[cluster]") {
  Cluster cluster(1);
  try {
    cluster.controller.apply(cannery::any_engine, "add", 2.0, std::string("three"))
        .get<double>(30s);
    FAIL("expected a RemoteError");
  } catch (const cannery::RemoteError& e) {
    CHECK(e.type() == "cannery.type_mismatch");
    CHECK(e.function() == "add");
    CHECK(e.message().find("argument 1") != std::string::npos);
    CHECK(e.message().find("str") != std::string::npos);
  }
  try {
    cluster.controller.apply(cannery::any_engine, "add", 2.0).get<double>(30s);
    FAIL("expected a RemoteError");
  } catch (const cannery::RemoteError& e) {
    CHECK(e.message().find("add") != std::string::npos);
    CHECK(e.message().find('2') != std::string::npos);
  }
  try {
    cluster.controller.apply(cannery::any_engine, "no_such_function").get<double>(30s);
    FAIL("expected a RemoteError");
  } catch (const cannery::RemoteError& e) {
    CHECK(e.type() == "cannery.unknown_function");
  }
}

TEST_CASE("an exception in a function comes back as a RemoteError and the engine keeps serving",
          "[cluster]") {
  Cluster cluster(1);
  auto& controller = cluster.controller;
  try {
    controller.apply(cannery::any_engine, "fail", std::string("boom")).get<double>(30s);
    FAIL("expected a RemoteError");
  } catch (const cannery::RemoteError& e) {
    CHECK(e.type() == "std::runtime_error");
    CHECK(e.message() == "boom");
    CHECK(e.function() == "fail");
    CHECK(e.engine_id() == controller.engines().front().id);
    CHECK(e.code() == cannery::errc::remote_error);
  }
  CHECK(controller.apply(cannery::any_engine, "add", 1.0, 1.0).get<double>(30s) == 2.0);
}
