// Map invocation (one call per index of list arguments) and references to
// cached objects (["cannery.ref", id] arguments read as the cached frames).

#include <Eigen/Core>
#include <cannery/canning.hpp>
#include <cannery/engine/functions.hpp>
#include <cannery/messaging/protocol.hpp>
#include <catch2/catch.hpp>
#include <span>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using cannery::protocol::RefArgument;
using cannery::test::capture_error;
using cannery::test::inside;
using cannery::test::wire;

}  // namespace

TEST_CASE("map calls the function once per index and number results are an ndarray",
          "[engine][functions][map]") {
  cannery::FunctionRegistry registry;
  registry.function("add", [](double a, double b) { return a + b; });
  auto out = registry.map(wire(cannery::pack_apply_message("add", std::vector<double>{1, 2, 3},
                                                           std::vector<double>{10, 20, 30})),
                          3);
  CHECK(out.tag == "ndarray");
  CHECK(cannery::uncan<std::vector<double>>(out) == std::vector<double>{11, 22, 33});

  // A list of numbers works as well as an array.
  out = registry.map(wire(cannery::pack_apply_message("add", std::vector<cannery::Object>{1, 2.5},
                                                      std::vector<double>{1, 1})),
                     2);
  CHECK(cannery::uncan<std::vector<double>>(out) == std::vector<double>{2, 3.5});

  // Zero elements: zero calls.
  out = registry.map(
      wire(cannery::pack_apply_message("add", std::vector<double>{}, std::vector<double>{})), 0);
  CHECK(cannery::uncan<std::vector<double>>(out).empty());
}

TEST_CASE("map over matrices, strings and views gives a list of results",
          "[engine][functions][map]") {
  cannery::FunctionRegistry registry;
  std::vector<const void*> seen;
  registry.function("trace_scaled", [&](Eigen::Ref<const Eigen::MatrixXd> m, double s) {
    seen.push_back(m.data());
    return m.trace() * s;
  });
  registry.function("shout", [](const std::string& s) { return s + "!"; });
  registry.function("first", [&](std::span<const double> s) {
    seen.push_back(s.data());
    return std::vector<double>{s[0]};
  });

  std::vector<Eigen::MatrixXd> matrices{Eigen::MatrixXd::Random(40, 40),
                                        Eigen::MatrixXd::Random(40, 40)};
  auto frames =
      wire(cannery::pack_apply_message("trace_scaled", matrices, std::vector<double>{1.0, 2.0}));
  auto out = registry.map(frames, 2);
  auto traces = cannery::uncan<std::vector<double>>(out);
  REQUIRE(traces.size() == 2);
  CHECK(traces[0] == Approx(matrices[0].trace()));
  CHECK(traces[1] == Approx(matrices[1].trace() * 2.0));
  // The Ref parameter viewed each received matrix in place.
  REQUIRE(seen.size() == 2);
  CHECK((inside(seen[0], frames[2]) || inside(seen[0], frames[1])));
  CHECK((inside(seen[1], frames[2]) || inside(seen[1], frames[3])));

  out = registry.map(wire(cannery::pack_apply_message("shout", std::vector<std::string>{"a", "b"})),
                     2);
  CHECK(out.tag == "list");
  CHECK(cannery::uncan<std::vector<std::string>>(out) == std::vector<std::string>{"a!", "b!"});

  seen.clear();
  std::vector<std::vector<double>> rows{cannery::test::ramp(300, 1), cannery::test::ramp(300, 2)};
  frames = wire(cannery::pack_apply_message("first", rows));
  out = registry.map(frames, 2);
  auto firsts = cannery::uncan<std::vector<std::vector<double>>>(out);
  CHECK(firsts == std::vector<std::vector<double>>{{1.0}, {2.0}});
  CHECK((inside(seen[0], frames[2]) && inside(seen[1], frames[3])));
}

TEST_CASE("map refuses chunks of the wrong length or kind", "[engine][functions][map]") {
  cannery::FunctionRegistry registry;
  registry.function("add", [](double a, double b) { return a + b; });
  registry.function("pid", [] { return 1; });

  auto e = capture_error([&] {
    registry.map(wire(cannery::pack_apply_message("add", std::vector<double>{1, 2, 3},
                                                  std::vector<double>{1, 2})),
                 3);
  });
  CHECK(e.code() == cannery::errc::shape_mismatch);
  CHECK(e.message().rfind("argument 1 of 'add': holds 2 elements, but the map is over 3", 0) == 0);

  auto scalar =
      capture_error([&] { registry.map(wire(cannery::pack_apply_message("add", 1.0, 2.0)), 1); });
  CHECK(scalar.code() == cannery::errc::type_mismatch);
  CHECK(scalar.message() == "argument 0 of 'add': map needs a list or a 1-D array, got float");

  auto nothing = capture_error([&] { registry.map(wire(cannery::pack_apply_message("pid")), 5); });
  CHECK(nothing.code() == cannery::errc::invalid_argument);

  auto count = capture_error(
      [&] { registry.map(wire(cannery::pack_apply_message("add", std::vector<double>{1})), 1); });
  CHECK(count.message() == "'add' takes 2 arguments, 1 was sent");
}

TEST_CASE("a reference argument reads the cached object's frames in place",
          "[engine][functions][refs]") {
  cannery::FunctionRegistry registry;
  const void* seen = nullptr;
  registry.function("sum", [&](std::span<const double> v) {
    seen = v.data();
    double total = 0;
    for (double x : v)
      total += x;
    return total;
  });
  registry.function("scaled_trace",
                    [](double s, Eigen::Ref<const Eigen::MatrixXd> m) { return s * m.trace(); });

  cannery::ObjectCache cache;
  std::vector<double> weights = cannery::test::ramp(10000);
  cache.put(7, wire(cannery::serialize_object(weights)));
  Eigen::MatrixXd m = Eigen::MatrixXd::Random(50, 50);
  cache.put(8, wire(cannery::serialize_object(m)));
  CHECK(cache.size() == 2);
  CHECK(cache.bytes() > weights.size() * sizeof(double));

  auto out = registry.apply(wire(cannery::pack_apply_message("sum", RefArgument{7})), &cache);
  CHECK(cannery::uncan<double>(out) == Approx(0.5 * 9999 * 10000 / 2));
  CHECK(inside(seen, (*cache.find(7))[1]));  // the cached frame itself, not a copy

  out = registry.apply(wire(cannery::pack_apply_message("scaled_trace", 2.0, RefArgument{8})),
                       &cache);
  CHECK(cannery::uncan<double>(out) == Approx(2.0 * m.trace()));

  // In a map, a reference stands for a whole chunk.
  cache.put(9, wire(cannery::serialize_object(std::vector<double>{1, 2, 3})));
  cannery::FunctionRegistry squares;
  squares.function("square", [](double x) { return x * x; });
  out = squares.map(wire(cannery::pack_apply_message("square", RefArgument{9})), 3, &cache);
  CHECK(cannery::uncan<std::vector<double>>(out) == std::vector<double>{1, 4, 9});

  CHECK(cache.release(7));
  CHECK_FALSE(cache.release(7));
  auto gone = capture_error(
      [&] { registry.apply(wire(cannery::pack_apply_message("sum", RefArgument{7})), &cache); });
  CHECK(gone.code() == cannery::errc::invalid_argument);
  CHECK(gone.message().rfind("argument 0 of 'sum': no cached object with ref 7", 0) == 0);
  // Without a cache, references cannot be used.
  CHECK_THROWS_AS(registry.apply(wire(cannery::pack_apply_message("sum", RefArgument{8}))),
                  cannery::error);
}
