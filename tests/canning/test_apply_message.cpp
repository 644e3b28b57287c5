// Apply messages: a function name with positional and keyword arguments,
// packed as one object per argument and read back one at a time.

#include <Eigen/Core>
#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>
#include "test_support.hpp"

namespace {

using cannery::test::capture_error;
using cannery::test::wire;

}  // namespace

TEST_CASE("an apply message carries the function name, arguments and keyword arguments",
          "[canning][apply]") {
  Eigen::MatrixXd matrix = Eigen::MatrixXd::Random(40, 30);
  std::vector<int> ids{3, 1, 4, 1, 5};
  auto frames = wire(cannery::pack_apply_message("trace_scaled", matrix, 2.5, std::string("label"),
                                                 ids, cannery::kw("verbose", true),
                                                 cannery::kw("name", std::string("run-7"))));
  // Apply header, matrix (header + buffer), double, string, ids, two kwargs.
  CHECK(frames.size() == 1 + 2 + 1 + 1 + 1 + 1 + 1);

  auto call = cannery::unpack_apply_message(frames);
  CHECK(call.function() == "trace_scaled");
  CHECK(call.nargs() == 4);
  CHECK(call.kwarg_names() == std::vector<std::string>{"verbose", "name"});
  CHECK(call.args_read() == 0);

  CHECK(call.next_arg<Eigen::MatrixXd>() == matrix);
  CHECK(call.args_read() == 1);
  CHECK(call.next_arg<double>() == 2.5);
  CHECK(call.next_arg<std::string>() == "label");
  CHECK(call.next_arg<std::vector<int>>() == ids);
  CHECK(call.args_read() == 4);

  auto [name1, verbose] = call.next_kwarg<bool>();
  CHECK(name1 == "verbose");
  CHECK(verbose);
  auto [name2, run] = call.next_kwarg<std::string>();
  CHECK(name2 == "name");
  CHECK(run == "run-7");
  CHECK(call.kwargs_read() == 2);
  CHECK(call.remaining().empty());
}

TEST_CASE("an apply message without arguments, or with only keyword arguments",
          "[canning][apply]") {
  auto bare = cannery::pack_apply_message("ping");
  CHECK(bare.size() == 1);
  auto call = cannery::unpack_apply_message(bare);
  CHECK(call.function() == "ping");
  CHECK(call.nargs() == 0);
  CHECK(call.kwarg_names().empty());
  CHECK(call.remaining().empty());

  auto kw_only = cannery::pack_apply_message("configure", cannery::kw("level", 3));
  auto kcall = cannery::unpack_apply_message(kw_only);
  CHECK(kcall.nargs() == 0);
  auto [name, level] = kcall.next_kwarg<int>();
  CHECK(name == "level");
  CHECK(level == 3);
}

TEST_CASE("arguments read as dynamic Objects by default", "[canning][apply]") {
  auto frames = cannery::pack_apply_message("f", 1, std::vector<double>{1.0, 2.0},
                                            cannery::kw("opt", std::string("x")));
  auto call = cannery::unpack_apply_message(frames);
  auto first = call.next_arg();
  CHECK(first.kind() == cannery::Object::Kind::integer);
  CHECK(first.to_int64() == 1);
  auto second = call.next_arg();
  CHECK(second.kind() == cannery::Object::Kind::ndarray);
  CHECK(second.as<std::vector<double>>() == std::vector<double>{1.0, 2.0});
  auto [name, value] = call.next_kwarg();
  CHECK(name == "opt");
  CHECK(value.to_string() == "x");
}

TEST_CASE("large arguments travel without a copy", "[canning][apply]") {
  std::vector<double> big(10000, 0.5);
  std::vector<double> kw_big(5000, 1.5);
  auto frames = cannery::pack_apply_message("g", big, cannery::kw("weights", kw_big));
  REQUIRE(frames.size() == 5);
  CHECK(static_cast<const void*>(frames[2].data()) == static_cast<const void*>(big.data()));
  CHECK(static_cast<const void*>(frames[4].data()) == static_cast<const void*>(kw_big.data()));

  // An rvalue argument is taken over.
  std::vector<double> moved(10000, 2.0);
  const void* before = moved.data();
  auto mframes = cannery::pack_apply_message("h", std::move(moved));
  REQUIRE(mframes.size() == 3);
  CHECK(static_cast<const void*>(mframes[2].data()) == before);

  auto received = wire(frames);
  auto call = cannery::unpack_apply_message(received);
  auto view = call.next_arg<std::span<const double>>();
  CHECK(static_cast<const void*>(view.data()) == static_cast<const void*>(received[2].data()));
  CHECK(call.next_kwarg<std::vector<double>>().second == kw_big);
}

TEST_CASE("a wrong argument type names the function and the position", "[canning][apply]") {
  auto frames = cannery::pack_apply_message("solve", std::string("first"), 2.0,
                                            cannery::kw("tolerance", 1e-6));
  auto call = cannery::unpack_apply_message(frames);
  CHECK(call.next_arg<std::string>() == "first");
  auto e = capture_error([&] { (void)call.next_arg<std::string>(); });
  CHECK(e.code() == cannery::errc::type_mismatch);
  CHECK_THAT(std::string(e.what()), Catch::Contains("argument 1"));
  CHECK_THAT(std::string(e.what()), Catch::Contains("solve"));
  // The failed read consumed nothing: the argument can be read with the right type.
  CHECK(call.args_read() == 1);
  CHECK(call.next_arg<double>() == 2.0);
  CHECK(call.args_read() == 2);

  auto ke = capture_error([&] { (void)call.next_kwarg<std::string>(); });
  CHECK(ke.code() == cannery::errc::type_mismatch);
  CHECK_THAT(std::string(ke.what()), Catch::Contains("tolerance"));
  CHECK_THAT(std::string(ke.what()), Catch::Contains("solve"));
  CHECK(call.kwargs_read() == 0);
  auto [name, tol] = call.next_kwarg<double>();
  CHECK(name == "tolerance");
  CHECK(tol == 1e-6);
  CHECK(call.remaining().empty());
}

TEST_CASE("asking for more arguments than were sent is invalid_argument", "[canning][apply]") {
  auto frames = cannery::pack_apply_message("f", 1, cannery::kw("k", 2));
  auto call = cannery::unpack_apply_message(frames);
  // Keyword arguments come after all positional ones.
  auto early = capture_error([&] { (void)call.next_kwarg<int>(); });
  CHECK(early.code() == cannery::errc::invalid_argument);
  CHECK(call.next_arg<int>() == 1);
  auto e = capture_error([&] { (void)call.next_arg<int>(); });
  CHECK(e.code() == cannery::errc::invalid_argument);
  CHECK_THAT(std::string(e.what()), Catch::Contains("'f'"));
  CHECK(call.next_kwarg<int>().second == 2);
  auto ke = capture_error([&] { (void)call.next_kwarg<int>(); });
  CHECK(ke.code() == cannery::errc::invalid_argument);
}

TEST_CASE("a positional argument after a keyword argument is refused when packing",
          "[canning][apply]") {
  auto e = capture_error([] { (void)cannery::pack_apply_message("f", cannery::kw("a", 1), 2); });
  CHECK(e.code() == cannery::errc::invalid_argument);
  CHECK_THAT(std::string(e.what()), Catch::Contains("'f'"));
}

TEST_CASE("a truncated apply message is refused", "[canning][apply]") {
  Eigen::MatrixXd matrix = Eigen::MatrixXd::Ones(50, 50);
  auto frames = cannery::pack_apply_message("f", matrix, 3);
  REQUIRE(frames.size() == 4);
  // Drop the matrix's buffer frame: the matrix then claims the next header.
  std::vector<cannery::Buffer> cut{frames[0], frames[1]};
  auto call = cannery::unpack_apply_message(cut);
  auto e = capture_error([&] { (void)call.next_arg<Eigen::MatrixXd>(); });
  CHECK(e.code() == cannery::errc::missing_buffers);
  CHECK_THAT(std::string(e.what()), Catch::Contains("argument 0"));

  // Not an apply message at all.
  auto plain = cannery::serialize_object(1);
  CHECK_THROWS_AS(cannery::unpack_apply_message(plain), cannery::error);
}

TEST_CASE("an apply message's frames are each argument's own frames, in order",
          "[canning][apply]") {
  Eigen::MatrixXd matrix = Eigen::MatrixXd::Random(40, 30);  // out of band: two frames
  const std::vector<double> small(16, 0.25);                 // inlined: one frame
  const auto frames = cannery::pack_apply_message("f", matrix, 7, small);

  std::vector<cannery::Buffer> expected;
  for (auto&& canned : {cannery::can(cannery::detail::ApplyHeader{"f", 3, {}}),
                        cannery::can(matrix), cannery::can(7), cannery::can(small)}) {
    canned.append_to(expected);
  }
  REQUIRE(frames.size() == expected.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i);
    CHECK(frames[i].as_string_view() == expected[i].as_string_view());
  }
  // The matrix's frame is its own memory, lent, not a copy.
  CHECK(frames[2].data() == reinterpret_cast<const std::byte*>(matrix.data()));
}
