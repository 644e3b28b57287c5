// Round trips of scalars and text through serialize_object / deserialize_object.

#include <cannery/canning.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

namespace {

template <class T>
T round_trip(const T& value) {
  auto frames = cannery::serialize_object(value);
  auto [out, rest] = cannery::deserialize_object<T>(frames);
  CHECK(rest.empty());
  return out;
}

}  // namespace

TEMPLATE_TEST_CASE("every integer width round-trips at its limits", "[canning][scalars]",
                   std::int8_t, std::int16_t, std::int32_t, std::int64_t, std::uint8_t,
                   std::uint16_t, std::uint32_t, std::uint64_t) {
  for (TestType v : {std::numeric_limits<TestType>::min(), TestType{0}, TestType{1},
                     std::numeric_limits<TestType>::max()}) {
    CHECK(round_trip(v) == v);
  }
}

TEST_CASE("bools, floats, doubles and complex numbers round-trip", "[canning][scalars]") {
  CHECK(round_trip(true) == true);
  CHECK(round_trip(false) == false);
  CHECK(round_trip(1.5f) == 1.5f);
  CHECK(round_trip(-2.25) == -2.25);
  CHECK(round_trip(std::numeric_limits<double>::infinity()) ==
        std::numeric_limits<double>::infinity());
  CHECK(round_trip(std::complex<double>(1.0, -3.5)) == std::complex<double>(1.0, -3.5));
  CHECK(round_trip(std::complex<float>(0.5f, 2.0f)) == std::complex<float>(0.5f, 2.0f));
}

TEST_CASE("strings round-trip, including empty, long and binary-safe ones", "[canning][scalars]") {
  CHECK(round_trip(std::string()).empty());
  CHECK(round_trip(std::string("hello")) == "hello");
  std::string big(100000, 'x');
  big[5] = '\0';
  CHECK(round_trip(big) == big);
}

TEST_CASE("an integer too large for the requested type is a value_out_of_range error",
          "[canning][scalars]") {
  auto frames = cannery::serialize_object(std::int64_t{300});
  try {
    (void)cannery::deserialize_object<std::int8_t>(frames);
    FAIL("expected an error");
  } catch (const cannery::error& e) {
    CHECK(e.code() == cannery::errc::value_out_of_range);
  }
  auto negative = cannery::serialize_object(-1);
  CHECK_THROWS_AS(cannery::deserialize_object<unsigned>(negative), cannery::error);
}

TEST_CASE("the canned tag names the native kind or the canner's tag", "[canning][scalars]") {
  CHECK(cannery::can(1).tag == "int");
  CHECK(cannery::can(1.0).tag == "float");
  CHECK(cannery::can(std::string("a")).tag == "str");
  CHECK(cannery::can(true).tag == "bool");
  CHECK(cannery::can(nullptr).tag == "null");
  CHECK(cannery::can(std::complex<double>{}).tag == "complex");
  CHECK(cannery::can(std::vector<double>{1, 2}).tag == "ndarray");
}
