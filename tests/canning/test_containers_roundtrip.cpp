// Round trips of containers (lists, dicts, pairs, tuples, optionals, nesting)
// and where their nested arrays end up: inlined in the header or out of band.

#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>
#include "test_support.hpp"

namespace {

using cannery::test::capture_error;
using cannery::test::ramp;
using cannery::test::round_trip;

}  // namespace

TEST_CASE("a std::vector of non-numbers travels as a list", "[canning][containers]") {
  std::vector<std::string> words{"alpha", "", "gamma with spaces", std::string(3000, 'z')};
  auto canned = cannery::can(words);
  CHECK(canned.tag == "list");
  CHECK(round_trip(words) == words);

  CHECK(round_trip(std::vector<std::string>{}).empty());

  std::vector<std::vector<int>> ragged{{1, 2, 3}, {}, {-4}, {5, 6}};
  CHECK(round_trip(ragged) == ragged);

  std::vector<std::optional<std::string>> holes{std::string("a"), std::nullopt, std::string("c")};
  CHECK(round_trip(holes) == holes);

  std::vector<std::complex<double>> complexes{{1.0, 2.0}, {-3.0, 0.5}};
  CHECK(round_trip(complexes) == complexes);
}

TEST_CASE("string-keyed std::map and std::unordered_map travel as dicts", "[canning][containers]") {
  std::map<std::string, double> ordered{{"one", 1.0}, {"two", 2.5}, {"minus", -7.25}};
  CHECK(cannery::can(ordered).tag == "dict");
  CHECK(round_trip(ordered) == ordered);
  CHECK(round_trip(std::map<std::string, int>{}).empty());

  std::unordered_map<std::string, std::string> hashed{{"k1", "v1"}, {"k2", ""}, {"", "empty key"}};
  CHECK(round_trip(hashed) == hashed);

  // The wire form is the same dict, so one map type can be read as the other.
  auto frames = cannery::serialize_object(ordered);
  auto as_hashed =
      cannery::deserialize_object<std::unordered_map<std::string, double>>(frames).value;
  REQUIRE(as_hashed.size() == ordered.size());
  for (const auto& [key, value] : ordered)
    CHECK(as_hashed.at(key) == value);
}

TEST_CASE("std::pair and std::tuple travel as lists of their members", "[canning][containers]") {
  std::pair<std::string, double> p{"mass", 3.75};
  CHECK(cannery::can(p).tag == "list");
  CHECK(round_trip(p) == p);

  std::tuple<int, std::string, std::vector<double>, bool> t{-12, "label", ramp(5, 1.0), true};
  CHECK(round_trip(t) == t);

  std::tuple<> empty;
  CHECK(round_trip(empty) == empty);

  // A tuple read with the wrong number of members is refused.
  auto frames = cannery::serialize_object(p);
  auto e =
      capture_error([&] { (void)cannery::deserialize_object<std::tuple<std::string>>(frames); });
  CHECK(e.code() == cannery::errc::malformed_header);
  // A pair whose second member has the wrong type is refused.
  auto e2 = capture_error(
      [&] { (void)cannery::deserialize_object<std::pair<std::string, std::string>>(frames); });
  CHECK(e2.code() == cannery::errc::type_mismatch);
}

TEST_CASE("std::optional travels as null when empty and as its value when full",
          "[canning][containers]") {
  std::optional<int> none;
  CHECK(cannery::can(none).tag == "null");
  CHECK_FALSE(round_trip(none).has_value());

  std::optional<int> some = 42;
  auto back = round_trip(some);
  REQUIRE(back.has_value());
  CHECK(*back == 42);

  std::optional<std::vector<double>> big = ramp(1000, -1.0);
  auto canned = cannery::can(big);
  CHECK(canned.buffers.size() == 1);
  auto big_back = round_trip(big);
  REQUIRE(big_back.has_value());
  CHECK(*big_back == *big);

  // An empty optional cannot be read as a plain value.
  auto frames = cannery::serialize_object(none);
  CHECK_THROWS_AS(cannery::deserialize_object<int>(frames), cannery::error);
}

TEST_CASE("nested containers round-trip", "[canning][containers]") {
  std::map<std::string, std::vector<std::vector<double>>> nested{
      {"empty", {}},
      {"small", {ramp(3, 0.0), ramp(0, 0.0), ramp(1, 9.0)}},
      {"large", {ramp(500, 1.0), ramp(2, 2.0), ramp(700, -3.0)}},
  };
  CHECK(round_trip(nested) == nested);

  std::vector<std::map<std::string, std::pair<int, std::optional<std::string>>>> deep{
      {{"a", {1, std::string("x")}}, {"b", {2, std::nullopt}}},
      {},
      {{"c", {3, std::string()}}},
  };
  CHECK(round_trip(deep) == deep);
}

TEST_CASE("large arrays nested at depth 3 become their own frames, small ones are inlined",
          "[canning][containers]") {
  const auto a = ramp(200, 1.0);  // 1600 bytes: out of band
  const auto b = ramp(10, 2.0);   // 80 bytes: inlined
  const auto c = ramp(300, 3.0);  // 2400 bytes: out of band
  const auto d = ramp(128, 4.0);  // exactly 1024 bytes: inlined (threshold is inclusive)
  const auto e = ramp(129, 5.0);  // 1032 bytes: out of band
  std::map<std::string, std::vector<std::vector<double>>> nested{
      {"x", {a, b}}, {"y", {c}}, {"z", {d, e}}};
  auto canned = cannery::can(nested);
  CHECK(canned.tag == "dict");
  REQUIRE(canned.buffers.size() == 3);
  // Frames come in the order the writer met them (map order x, y, z), and
  // each is exactly the array's bytes.
  CHECK(canned.buffers[0].size() == a.size() * sizeof(double));
  CHECK(canned.buffers[1].size() == c.size() * sizeof(double));
  CHECK(canned.buffers[2].size() == e.size() * sizeof(double));
  // The header holds the inlined ones but not the large ones.
  CHECK(canned.header.size() > (b.size() + d.size()) * sizeof(double));
  CHECK(canned.header.size() < (b.size() + d.size()) * sizeof(double) + 512);

  auto frames = canned.frames();
  auto back = cannery::deserialize_object<decltype(nested)>(frames).value;
  CHECK(back == nested);
}

TEST_CASE("nested out-of-band arrays of an lvalue are borrowed, not copied",
          "[canning][containers]") {
  std::map<std::string, std::vector<std::vector<double>>> nested{{"k", {ramp(400, 0.0)}}};
  auto canned = cannery::can(nested);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(static_cast<const void*>(canned.buffers[0].data()) ==
        static_cast<const void*>(nested.at("k")[0].data()));
}

TEST_CASE("SerializeOptions::buffer_threshold decides what is inlined", "[canning][containers]") {
  std::vector<std::vector<double>> arrays{ramp(4, 0.0), ramp(64, 1.0), ramp(200, 2.0)};
  // 32, 512 and 1600 bytes.
  auto count = [&](std::size_t threshold) {
    cannery::SerializeOptions options;
    options.buffer_threshold = threshold;
    auto canned = cannery::can(arrays, options);
    auto frames = canned.frames();
    CHECK(cannery::deserialize_object<std::vector<std::vector<double>>>(frames).value == arrays);
    return canned.buffers.size();
  };
  CHECK(count(1024) == 1);
  CHECK(count(0) == 3);
  CHECK(count(31) == 3);
  CHECK(count(32) == 2);
  CHECK(count(512) == 1);
  CHECK(count(1600) == 0);
  CHECK(count(std::size_t{1} << 30) == 0);
}

TEST_CASE("bytes inside containers follow the same threshold", "[canning][containers]") {
  std::vector<std::byte> small(100, std::byte{7});
  std::vector<std::byte> large(5000, std::byte{9});
  std::map<std::string, std::vector<std::vector<std::byte>>> m{{"blobs", {small, large}}};
  auto canned = cannery::can(m);
  CHECK(canned.buffers.size() == 1);
  CHECK(round_trip(m) == m);
}

TEST_CASE("a container read as the wrong container is a type_mismatch", "[canning][containers]") {
  std::map<std::string, int> m{{"a", 1}};
  auto frames = cannery::serialize_object(m);
  auto e =
      capture_error([&] { (void)cannery::deserialize_object<std::vector<std::string>>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);

  std::vector<std::string> v{"a"};
  auto vframes = cannery::serialize_object(v);
  auto e2 = capture_error(
      [&] { (void)cannery::deserialize_object<std::map<std::string, int>>(vframes); });
  CHECK(e2.code() == cannery::errc::type_mismatch);

  // A dict whose values have the wrong type.
  auto e3 = capture_error(
      [&] { (void)cannery::deserialize_object<std::map<std::string, std::string>>(frames); });
  CHECK(e3.code() == cannery::errc::type_mismatch);
}

TEST_CASE("writing deeper than SerializeOptions::max_depth is refused", "[canning][containers]") {
  std::vector<std::vector<std::vector<std::string>>> deep{{{"x"}}};
  cannery::SerializeOptions options;
  options.max_depth = 3;
  auto e = capture_error([&] { (void)cannery::can(deep, options); });
  CHECK(e.code() == cannery::errc::limit_exceeded);
  options.max_depth = 4;
  CHECK(cannery::can(deep, options).tag == "list");
}

TEST_CASE("a dict that names a key twice is a duplicate_key error", "[canning][containers]") {
  cannery::Writer w;
  w.dict(2);
  w.key("a");
  w.integer(1);
  w.key("a");
  w.integer(2);
  auto result = std::move(w).finish();
  std::vector<cannery::Buffer> frames{result.header};
  auto e =
      capture_error([&] { (void)cannery::deserialize_object<std::map<std::string, int>>(frames); });
  CHECK(e.code() == cannery::errc::duplicate_key);
  auto e2 = capture_error(
      [&] { (void)cannery::deserialize_object<std::unordered_map<std::string, int>>(frames); });
  CHECK(e2.code() == cannery::errc::duplicate_key);
  auto e3 = capture_error([&] { (void)cannery::deserialize_object(frames); });
  CHECK(e3.code() == cannery::errc::duplicate_key);
}
