// A map chunk's reply from an engine is split into one Object per element:
// lists as they are, 1-D numeric arrays widened to what Object holds, and
// anything else, or a wrong count, refused before elements are copied.

#include <complex>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include "cannery/controller/async_map_result.hpp"
#include "test_support.hpp"

namespace {

using cannery::errc;
using cannery::NDArray;
using cannery::Object;
using cannery::detail::split_chunk;

TEST_CASE("a list reply splits into its items", "[controller][map]") {
  const Object reply(Object::List{Object(1), Object("two"), Object(3.0)});
  const std::vector<Object> items = split_chunk(reply, 3);
  REQUIRE(items.size() == 3);
  CHECK(items[1].to_string() == "two");
}

TEST_CASE("a numeric array reply splits into widened numbers", "[controller][map]") {
  const auto floats = split_chunk(Object(NDArray::from_vector(std::vector<float>{0.5f, 1.5f})), 2);
  CHECK(floats[1].kind() == Object::Kind::floating);
  CHECK(floats[1].to_double() == 1.5);
  const auto shorts =
      split_chunk(Object(NDArray::from_vector(std::vector<std::int16_t>{-3, 4, 5})), 3);
  CHECK(shorts[0].to_int64() == -3);
  const auto bytes = split_chunk(Object(NDArray::from_vector(std::vector<std::uint8_t>{255})), 1);
  CHECK(bytes[0].to_int64() == 255);
  const auto complexes =
      split_chunk(Object(NDArray::from_vector(std::vector<std::complex<float>>{{1.0f, -2.0f}})), 1);
  CHECK(complexes[0].kind() == Object::Kind::complex);
}

TEST_CASE("a reply with the wrong count or shape is refused", "[controller][map]") {
  const Object list(Object::List{Object(1), Object(2)});
  CHECK(cannery::test::capture_error([&] { split_chunk(list, 3); }).code() == errc::shape_mismatch);
  const Object array(NDArray::from_vector(std::vector<double>(5, 1.0)));
  CHECK(cannery::test::capture_error([&] { split_chunk(array, 4); }).code() ==
        errc::shape_mismatch);
  const Object matrix(NDArray(cannery::dtype_of<double>(), {2, 2},
                              cannery::Buffer::take(std::vector<double>(4, 0.0))));
  CHECK(cannery::test::capture_error([&] { split_chunk(matrix, 4); }).code() ==
        errc::shape_mismatch);
  CHECK(cannery::test::capture_error([&] { split_chunk(Object("text"), 1); }).code() ==
        errc::type_mismatch);
}

}  // namespace
