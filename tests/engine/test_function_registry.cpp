// FunctionRegistry: parameter types read from the callable, arguments
// uncanned as those types (views of the frames where the type allows),
// errors that name the function, the position, what was expected and what
// arrived, results canned with ownership.

#include <Eigen/Core>
#include <algorithm>
#include <cannery/canning.hpp>
#include <cannery/engine/functions.hpp>
#include <cannery/messaging/shared_memory.hpp>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using cannery::test::capture_error;
using cannery::test::inside;
using cannery::test::wire;

bool inside_any(const void* p, const std::vector<cannery::Buffer>& frames) {
  for (const auto& f : frames) {
    if (inside(p, f)) return true;
  }
  return false;
}

double free_add(double a, double b) {
  return a + b;
}

}  // namespace

TEST_CASE("parameter types are read from lambdas, function pointers and std::function",
          "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("trace_scaled",
                    [](Eigen::Ref<const Eigen::MatrixXd> m, double s) { return m.trace() * s; });
  registry.function("free_add", &free_add);
  registry.function("free_add_ref", free_add);
  registry.function("wrapped", std::function<std::string(std::string, int)>(
                                   [](std::string s, int n) { return s + std::to_string(n); }));
  int calls = 0;
  registry.function("counter", [calls]() mutable { return ++calls; });
  registry.function("nothing", [](double) {});

  CHECK(registry.names() == std::vector<std::string>{"counter", "free_add", "free_add_ref",
                                                     "nothing", "trace_scaled", "wrapped"});
  CHECK(registry.contains("wrapped"));
  CHECK_FALSE(registry.contains("missing"));

  Eigen::MatrixXd m = Eigen::MatrixXd::Random(5, 5);
  auto traced = registry.apply(wire(cannery::pack_apply_message("trace_scaled", m, 2.0)));
  CHECK(cannery::uncan<double>(traced) == Approx(m.trace() * 2.0));
  CHECK(cannery::uncan<double>(
            registry.apply(wire(cannery::pack_apply_message("free_add", 1.5, 2)))) == 3.5);
  CHECK(cannery::uncan<double>(
            registry.apply(wire(cannery::pack_apply_message("free_add_ref", 1.0, 2.0)))) == 3.0);
  CHECK(cannery::uncan<std::string>(registry.apply(
            wire(cannery::pack_apply_message("wrapped", std::string("n="), 4)))) == "n=4");
  CHECK(cannery::uncan<int>(registry.apply(wire(cannery::pack_apply_message("counter")))) == 1);
  CHECK(cannery::uncan<int>(registry.apply(wire(cannery::pack_apply_message("counter")))) == 2);
  // void gives null.
  auto none = registry.apply(wire(cannery::pack_apply_message("nothing", 1.0)));
  CHECK(none.tag == "null");
}

TEST_CASE("a name is registered once", "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("f", [] { return 1; });
  auto e = capture_error([&] { registry.function("f", [] { return 2; }); });
  CHECK(e.code() == cannery::errc::invalid_argument);
  CHECK(e.message().find("'f' is already registered") != std::string::npos);
  CHECK(capture_error([&] { registry.function("", [] { return 2; }); }).code() ==
        cannery::errc::invalid_argument);
}

TEST_CASE("a wrong argument count names the function and both counts", "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("trace_scaled",
                    [](Eigen::Ref<const Eigen::MatrixXd> m, double s) { return m.trace() * s; });
  registry.function("one", [](double x) { return x; });
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(3, 3);

  auto too_many = capture_error(
      [&] { registry.apply(wire(cannery::pack_apply_message("trace_scaled", m, 2.0, 3.0))); });
  CHECK(too_many.code() == cannery::errc::invalid_argument);
  CHECK(too_many.message() == "'trace_scaled' takes 2 arguments, 3 were sent");

  auto too_few = capture_error([&] { registry.apply(wire(cannery::pack_apply_message("one"))); });
  CHECK(too_few.message() == "'one' takes 1 argument, 0 were sent");
  auto one_sent =
      capture_error([&] { registry.apply(wire(cannery::pack_apply_message("trace_scaled", m))); });
  CHECK(one_sent.message() == "'trace_scaled' takes 2 arguments, 1 was sent");
}

TEST_CASE("a wrong argument type names the function, the position, expected and got",
          "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("trace_scaled",
                    [](Eigen::Ref<const Eigen::MatrixXd> m, double s) { return m.trace() * s; });
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(3, 3);

  auto e = capture_error([&] {
    registry.apply(wire(cannery::pack_apply_message("trace_scaled", m, std::string("two"))));
  });
  CHECK(e.code() == cannery::errc::type_mismatch);
  CHECK(e.message() == "argument 1 of 'trace_scaled': expected float, got str");

  auto first = capture_error(
      [&] { registry.apply(wire(cannery::pack_apply_message("trace_scaled", 1.0, 2.0))); });
  CHECK(first.code() == cannery::errc::type_mismatch);
  CHECK(first.message().rfind("argument 0 of 'trace_scaled': expected ", 0) == 0);
  CHECK(first.message().find("got float") != std::string::npos);

  // A float32 matrix is not a float64 one.
  Eigen::MatrixXf mf = Eigen::MatrixXf::Identity(3, 3);
  auto dtype = capture_error(
      [&] { registry.apply(wire(cannery::pack_apply_message("trace_scaled", mf, 2.0))); });
  CHECK(dtype.code() == cannery::errc::type_mismatch);
  CHECK(dtype.message().rfind("argument 0 of 'trace_scaled': ", 0) == 0);
}

TEST_CASE("keyword arguments are refused with their names", "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("add", [](double a, double b) { return a + b; });
  auto e = capture_error([&] {
    registry.apply(wire(cannery::pack_apply_message("add", 1.0, 2.0, cannery::kw("scale", 3.0))));
  });
  CHECK(e.code() == cannery::errc::invalid_argument);
  CHECK(e.message().find("'add' takes positional arguments only") != std::string::npos);
  CHECK(e.message().find("'scale'") != std::string::npos);
}

TEST_CASE("an unknown function is unknown_function", "[engine][functions]") {
  cannery::FunctionRegistry registry;
  auto e = capture_error([&] { registry.apply(wire(cannery::pack_apply_message("nope", 1))); });
  CHECK(e.code() == cannery::errc::unknown_function);
  CHECK(e.message().find("'nope'") != std::string::npos);
}

TEST_CASE("view parameters point into the argument frames", "[engine][functions][zero-copy]") {
  cannery::FunctionRegistry registry;
  const void* seen_ref = nullptr;
  const void* seen_map = nullptr;
  const void* seen_span = nullptr;
  const void* seen_ndarray = nullptr;
  registry.function("ref", [&](Eigen::Ref<const Eigen::MatrixXd> m) {
    seen_ref = m.data();
    return m.sum();
  });
  registry.function("ref_vector", [&](const Eigen::Ref<const Eigen::VectorXd>& v) {
    seen_ref = v.data();
    return v.sum();
  });
  registry.function("map", [&](Eigen::Map<const Eigen::MatrixXd> m) {
    seen_map = m.data();
    return m.sum();
  });
  registry.function("span", [&](std::span<const double> s) {
    seen_span = s.data();
    return s.size();
  });
  registry.function("ndarray", [&](const cannery::NDArray& a) {
    seen_ndarray = a.first_byte();
    return a.nbytes();
  });

  Eigen::MatrixXd m = Eigen::MatrixXd::Random(64, 32);
  std::vector<double> v = cannery::test::ramp(1000);
  Eigen::VectorXd ev = Eigen::VectorXd::Random(500);

  auto frames = wire(cannery::pack_apply_message("ref", m));
  CHECK(cannery::uncan<double>(registry.apply(frames)) == Approx(m.sum()));
  CHECK(inside_any(seen_ref, frames));

  frames = wire(cannery::pack_apply_message("ref_vector", ev));
  CHECK(cannery::uncan<double>(registry.apply(frames)) == Approx(ev.sum()));
  CHECK(inside_any(seen_ref, frames));

  frames = wire(cannery::pack_apply_message("map", m));
  CHECK(cannery::uncan<double>(registry.apply(frames)) == Approx(m.sum()));
  CHECK(inside_any(seen_map, frames));

  frames = wire(cannery::pack_apply_message("span", v));
  CHECK(cannery::uncan<std::size_t>(registry.apply(frames)) == v.size());
  CHECK(inside_any(seen_span, frames));

  frames = wire(cannery::pack_apply_message("ndarray", m));
  CHECK(cannery::uncan<std::size_t>(registry.apply(frames)) == m.size() * sizeof(double));
  CHECK(inside_any(seen_ndarray, frames));
}

TEST_CASE("an Eigen::Ref of another layout gets a copy, with the right values",
          "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("corner", [](Eigen::Ref<const Eigen::MatrixXd> m) { return m(0, 1); });
  // Row-major data cannot be viewed as a column-major Ref: copied once.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rm(3, 4);
  rm.setRandom();
  CHECK(cannery::uncan<double>(registry.apply(wire(cannery::pack_apply_message("corner", rm)))) ==
        rm(0, 1));
}

TEST_CASE("owning parameters: values, containers, references", "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("owning", [](Eigen::MatrixXd m, std::vector<double> v, const std::string& s,
                                 std::map<std::string, int> d) {
    m(0, 0) = 100;  // a copy the function may change
    v.push_back(1);
    return s + ":" + std::to_string(m(0, 0) + static_cast<double>(v.size() + d.size()));
  });
  registry.function("modify", [](std::vector<double>& v) {
    v.push_back(2.0);
    return v;
  });
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(2, 2);
  auto out = registry.apply(
      wire(cannery::pack_apply_message("owning", m, std::vector<double>{1, 2}, std::string("x"),
                                       std::map<std::string, int>{{"a", 1}})));
  CHECK(cannery::uncan<std::string>(out) == "x:" + std::to_string(104.0));
  CHECK(cannery::uncan<std::vector<double>>(registry.apply(wire(cannery::pack_apply_message(
            "modify", std::vector<double>{1.0})))) == std::vector<double>{1.0, 2.0});
}

TEST_CASE("results own their bytes: a view of an argument shares its frame and a local is copied",
          "[engine][functions]") {
  cannery::FunctionRegistry registry;
  registry.function("same_span", [](std::span<const double> s) { return s; });
  registry.function("twice", [](Eigen::Map<const Eigen::MatrixXd> m) { return m * 2.0; });
  registry.function(
      "big", [](std::int64_t n) { return std::vector<double>(static_cast<std::size_t>(n), 1.5); });

  registry.function("local_span", [](std::int64_t n) {
    thread_local std::vector<double> scratch;
    scratch.assign(static_cast<std::size_t>(n), 2.5);
    return std::span<const double>(scratch);
  });

  std::vector<double> v = cannery::test::ramp(1000);
  {
    const std::vector<cannery::Buffer> request = wire(cannery::pack_apply_message("same_span", v));
    auto out = registry.apply(request);
    CHECK(cannery::uncan<std::vector<double>>(out) == v);
    REQUIRE(out.buffers.size() == 1);
    CHECK_FALSE(out.buffers[0].is_borrowed());
    // The argument's received frame, not a copy: its owner keeps it.
    CHECK(std::any_of(request.begin(), request.end(), [&](const cannery::Buffer& frame) {
      return inside(out.buffers[0].data(), frame);
    }));
  }
  {
    auto out = registry.apply(wire(cannery::pack_apply_message("local_span", 1000)));
    REQUIRE(out.buffers.size() == 1);
    CHECK_FALSE(out.buffers[0].is_borrowed());
    CHECK(cannery::uncan<std::vector<double>>(out) == std::vector<double>(1000, 2.5));
  }
  Eigen::MatrixXd m = Eigen::MatrixXd::Random(30, 30);
  auto twice = registry.apply(wire(cannery::pack_apply_message("twice", m)));
  CHECK(cannery::uncan<Eigen::MatrixXd>(twice).isApprox(m * 2.0));
  // A returned container is moved behind the frame: it travels without a copy.
  auto big = registry.apply(wire(cannery::pack_apply_message("big", 100000)));
  REQUIRE(big.buffers.size() == 1);
  CHECK_FALSE(big.buffers[0].is_borrowed());
  CHECK(big.buffers[0].size() == 100000 * sizeof(double));
}

TEST_CASE("a result viewing an argument in shared memory is copied, not sent from the segment",
          "[engine][functions]") {
  // Another process may truncate a segment while libzmq would still be
  // reading it for the reply, after the task's check for damage.
  cannery::FunctionRegistry registry;
  registry.function("same_span", [](std::span<const double> s) { return s; });
  const std::vector<double> v(1 << 17, 0.5);  // 1 MiB, above the segment's threshold
  const std::vector<cannery::Buffer> frames = cannery::pack_apply_message("same_span", v);
  std::optional<cannery::SharedSegment> segment = cannery::SharedSegment::store(frames, 4096);
  REQUIRE(segment);
  std::vector<cannery::Buffer> received = frames;
  for (const auto& p : segment->placements())
    received.at(p.index) = cannery::Buffer();
  cannery::restore_shared_frames({segment->descriptor()}, received);
  REQUIRE(std::any_of(received.begin(), received.end(),
                      [](const cannery::Buffer& f) { return cannery::views_shared_memory(f); }));

  auto out = registry.apply(received);
  CHECK(cannery::uncan<std::vector<double>>(out) == v);
  REQUIRE(out.buffers.size() == 1);
  CHECK_FALSE(out.buffers[0].is_borrowed());
  CHECK_FALSE(cannery::views_shared_memory(out.buffers[0]));
  CHECK(std::none_of(received.begin(), received.end(), [&](const cannery::Buffer& frame) {
    return inside(out.buffers[0].data(), frame);
  }));
}
