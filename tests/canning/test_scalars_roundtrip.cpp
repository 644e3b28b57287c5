// Round trips of scalars and text through serialize_object / deserialize_object.

#include <cannery/canning.hpp>
#include <catch2/catch.hpp>
#include <complex>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "test_support.hpp"

namespace {

using cannery::test::round_trip;

template <class T>
cannery::errc error_code_of(const std::vector<cannery::Buffer>& frames) {
  try {
    (void)cannery::deserialize_object<T>(frames);
  } catch (const cannery::error& e) {
    return e.code();
  }
  FAIL("expected a cannery::error");
  return cannery::errc::invalid_argument;
}

std::vector<cannery::Buffer> frames_of(cannery::Writer&& w) {
  auto result = std::move(w).finish();
  std::vector<cannery::Buffer> frames{result.header};
  frames.insert(frames.end(), result.buffers.begin(), result.buffers.end());
  return frames;
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

TEST_CASE("UTF-8 is checked as Unicode and Python's strict decoder define it",
          "[canning][scalars]") {
  using cannery::detail::is_valid_utf8;
  for (std::string_view good :
       {"", "plain ASCII text, longer than eight bytes", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xee\x80\x80",
        "eight ok\xc3\xa9 and more after it"}) {
    INFO(good);
    CHECK(is_valid_utf8(good));
  }
  for (std::string_view bad : {
           "\xff",              // never a lead byte
           "\x80",              // a continuation byte alone
           "\xc0\x80",          // overlong NUL
           "\xc1\xbf",          // overlong
           "\xe0\x80\x80",      // overlong
           "\xed\xa0\x80",      // a surrogate, U+D800
           "\xf4\x90\x80\x80",  // past U+10FFFF
           "\xf5\x80\x80\x80",  // past U+10FFFF
           "\xe2\x82",          // cut short
           "\xc3"
           "a",                 // a lead byte before ASCII
           "twelve bytes\xff",  // after the eight-byte fast path
       }) {
    INFO(bad);
    CHECK_FALSE(is_valid_utf8(bad));
  }
  static_assert(is_valid_utf8("geometry.Point") && !is_valid_utf8("\xff"));
}

TEST_CASE("a std::string that is not UTF-8 travels as bytes and reads back as a string",
          "[canning][scalars]") {
  const std::string binary("\xff\xfe\x00ok", 5);
  auto canned = cannery::can(binary);
  CHECK(canned.tag == "bytes");
  auto frames = canned.frames();
  // [1, bin(5), 0]: msgpack readers decode str as UTF-8 and refuse this one.
  const auto* header = reinterpret_cast<const unsigned char*>(frames[0].data());
  CHECK(header[2] == 0xc4);
  CHECK(round_trip(binary) == binary);
  CHECK(cannery::deserialize_object<std::string_view>(frames).value == binary);
  // Dynamic receivers get bytes; as<std::string>() reads them as text again.
  const cannery::Object o = cannery::deserialize_object(frames).value;
  CHECK(o.kind() == cannery::Object::Kind::bytes);
  CHECK(o.as<std::string>() == binary);
  // UTF-8 stays str.
  CHECK(cannery::can(std::string("caf\xc3\xa9")).tag == "str");
  // In containers, structs and apply messages alike.
  const std::vector<std::string> mixed{"text", binary};
  CHECK(round_trip(mixed) == mixed);
  auto call_frames = cannery::pack_apply_message(binary, binary, cannery::kw(binary, 1));
  auto call = cannery::unpack_apply_message(call_frames);
  CHECK(call.function() == binary);
  CHECK(call.next_arg<std::string>() == binary);
  CHECK(call.next_kwarg<int>().first == binary);
}

TEST_CASE("a dict key that is not UTF-8 is refused when canning", "[canning][scalars]") {
  const std::map<std::string, int> bad{{"\xff", 1}};
  try {
    (void)cannery::can(bad);
    FAIL("canned");
  } catch (const cannery::error& e) {
    CHECK(e.code() == cannery::errc::invalid_argument);
    CHECK_THAT(e.message(), Catch::Contains("UTF-8"));
  }
  cannery::Object::Dict dict;
  dict["ok"] = cannery::Object(1);
  dict["\xc3"] = cannery::Object(2);
  CHECK_THROWS_AS(cannery::can(cannery::Object(std::move(dict))), cannery::error);
}

TEMPLATE_TEST_CASE("character types travel as ints, not strings", "[canning][scalars]", char,
                   signed char, unsigned char, wchar_t, char8_t, char16_t, char32_t) {
  const TestType a = TestType('A');
  auto canned = cannery::can(a);
  CHECK(canned.tag == "int");
  const auto* header = reinterpret_cast<const unsigned char*>(canned.frames()[0].data());
  CHECK(header[2] == 0x41);  // [1, 65, 0]
  CHECK(round_trip(a) == a);
  CHECK(error_code_of<TestType>(cannery::serialize_object(std::string("A"))) ==
        cannery::errc::type_mismatch);
  CHECK(error_code_of<TestType>(cannery::serialize_object(std::int64_t{1} << 40)) ==
        cannery::errc::value_out_of_range);
}

TEST_CASE("std::monostate travels as nil and reads only nil", "[canning][scalars]") {
  auto frames = cannery::serialize_object(std::monostate{});
  CHECK(cannery::can(std::monostate{}).tag == "null");
  CHECK(frames[0].as_string_view() == cannery::serialize_object(nullptr)[0].as_string_view());
  CHECK(round_trip(std::monostate{}) == std::monostate{});
  CHECK(error_code_of<std::monostate>(cannery::serialize_object(0)) ==
        cannery::errc::type_mismatch);
}

TEST_CASE("scalars convert: ints read as floats, floats and bools never as ints",
          "[canning][scalars]") {
  CHECK(cannery::deserialize_object<double>(cannery::serialize_object(3)).value == 3.0);
  CHECK(cannery::deserialize_object<float>(cannery::serialize_object(-7)).value == -7.0f);
  CHECK(cannery::deserialize_object<double>(cannery::serialize_object(1.5f)).value == 1.5);
  CHECK(cannery::deserialize_object<float>(cannery::serialize_object(0.1)).value == 0.1f);
  CHECK(cannery::deserialize_object<float>(cannery::serialize_object(1e300)).value ==
        std::numeric_limits<float>::infinity());
  CHECK(error_code_of<int>(cannery::serialize_object(2.0)) == cannery::errc::type_mismatch);
  CHECK(error_code_of<int>(cannery::serialize_object(true)) == cannery::errc::type_mismatch);
  CHECK(error_code_of<bool>(cannery::serialize_object(1)) == cannery::errc::type_mismatch);
  CHECK(error_code_of<std::nullptr_t>(cannery::serialize_object(0)) ==
        cannery::errc::type_mismatch);
  // A complex payload of ints, as another writer may send it.
  cannery::Writer w;
  w.tagged(cannery::format::tag_complex);
  w.array(2);
  w.integer(1);
  w.integer(-2);
  CHECK(cannery::deserialize_object<std::complex<double>>(frames_of(std::move(w))).value ==
        std::complex<double>(1, -2));
}
