// The built-in functions every cannery-engine has: received numbers never
// make them run into undefined behaviour.

#include <cannery/canning.hpp>
#include <cannery/engine/builtins.hpp>
#include <cannery/engine/functions.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "test_support.hpp"

using cannery::test::capture_error;
using cannery::test::wire;

TEST_CASE("small_task refuses results beyond int64 instead of overflowing", "[engine][builtins]") {
  cannery::FunctionRegistry registry;
  cannery::register_builtin_functions(registry);
  const std::vector<double> samples{0.25, 0.25};
  auto call = [&](std::int64_t id, double value) {
    return registry.apply(
        wire(cannery::pack_apply_message("small_task", id, std::string("ab"), value, samples)));
  };
  CHECK(cannery::uncan<std::int64_t>(call(40, 1.5)) == 40 + 2 + 2);
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  // id + name length overflows; a value far beyond int64; not a number.
  for (auto [id, value] : {std::pair{max, 0.0}, std::pair{std::int64_t{1}, 1e300},
                           std::pair{std::int64_t{1}, std::numeric_limits<double>::quiet_NaN()},
                           std::pair{max - 2, 5.0}}) {
    INFO("id " << id << ", value " << value);
    const cannery::error e = capture_error([&] { call(id, value); });
    CHECK(e.code() == cannery::errc::invalid_argument);
    CHECK_THAT(e.what(), Catch::Contains("does not fit in an int64"));
  }
}
