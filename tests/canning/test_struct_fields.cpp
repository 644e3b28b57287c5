// User structs: CANNERY_FIELDS (field by field, tolerant of added fields) and
// CANNERY_RAW_BYTES (trivially copyable structs as their bytes).

#include <Eigen/Core>
#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include "test_support.hpp"

namespace fields_test {

struct Part {
  std::string label;
  int count = 0;
  friend bool operator==(const Part&, const Part&) = default;
};
CANNERY_FIELDS(Part, label, count)

struct Body {
  Eigen::Vector3d position = Eigen::Vector3d::Zero();
  double mass = 0;
  int id = 0;
  std::string name;
  Part core;
  std::vector<Part> parts;
  std::vector<double> samples;
};
CANNERY_FIELDS(Body, position, mass, id, name, core, parts, samples)

bool operator==(const Body& a, const Body& b) {
  return a.position == b.position && a.mass == b.mass && a.id == b.id && a.name == b.name &&
         a.core == b.core && a.parts == b.parts && a.samples == b.samples;
}

// Two versions of one struct, as two programs might hold them: the newer one
// has more fields. Both are named "Reading" on the wire.
namespace v1 {
struct Reading {
  double value = 0;
  std::string unit;
};
CANNERY_FIELDS(Reading, value, unit)
}  // namespace v1

namespace v2 {
struct Reading {
  double value = 0;
  std::string unit;
  std::int64_t timestamp = 0;
  std::vector<int> flags;
};
CANNERY_FIELDS(Reading, value, unit, timestamp, flags)
}  // namespace v2

struct Hit {
  float x, y;
  std::uint32_t detector;
  friend bool operator==(const Hit&, const Hit&) = default;
};
CANNERY_RAW_BYTES(Hit, x, y, detector)

// Integers only, no padding: the short form proves it.
struct Channel {
  std::uint16_t id;
  std::uint8_t gain;
  std::uint8_t reserved;
  friend bool operator==(const Channel&, const Channel&) = default;
};
CANNERY_RAW_BYTES(Channel)

// Floats, complex numbers, an array and a raw-bytes struct, 32 bytes of
// members in 32 bytes: the listed form proves it.
struct Sample {
  double time;
  std::complex<float> iq[2];
  Channel channel;
  std::uint32_t count;
  friend bool operator==(const Sample& a, const Sample& b) {
    return a.time == b.time && a.iq[0] == b.iq[0] && a.iq[1] == b.iq[1] && a.channel == b.channel &&
           a.count == b.count;
  }
};
CANNERY_RAW_BYTES(Sample, time, iq, channel, count)

// As many fields as CANNERY_FIELDS takes.
struct Wide {
  int f0 = 0;
  int f1 = 0;
  int f2 = 0;
  int f3 = 0;
  int f4 = 0;
  int f5 = 0;
  int f6 = 0;
  int f7 = 0;
  int f8 = 0;
  int f9 = 0;
  int f10 = 0;
  int f11 = 0;
  int f12 = 0;
  int f13 = 0;
  int f14 = 0;
  int f15 = 0;
  int f16 = 0;
  int f17 = 0;
  int f18 = 0;
  int f19 = 0;
  int f20 = 0;
  int f21 = 0;
  int f22 = 0;
  int f23 = 0;
  int f24 = 0;
  int f25 = 0;
  int f26 = 0;
  int f27 = 0;
  int f28 = 0;
  int f29 = 0;
  int f30 = 0;
  int f31 = 0;
  int f32 = 0;
  int f33 = 0;
  int f34 = 0;
  int f35 = 0;
  int f36 = 0;
  int f37 = 0;
  int f38 = 0;
  int f39 = 0;
  int f40 = 0;
  int f41 = 0;
  int f42 = 0;
  int f43 = 0;
  int f44 = 0;
  int f45 = 0;
  int f46 = 0;
  int f47 = 0;
  int f48 = 0;
  int f49 = 0;
  int f50 = 0;
  int f51 = 0;
  int f52 = 0;
  int f53 = 0;
  int f54 = 0;
  int f55 = 0;
  int f56 = 0;
  int f57 = 0;
  int f58 = 0;
  int f59 = 0;
  int f60 = 0;
  int f61 = 0;
  int f62 = 0;
  int f63 = 0;
};
CANNERY_FIELDS(Wide, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17,
               f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34,
               f35, f36, f37, f38, f39, f40, f41, f42, f43, f44, f45, f46, f47, f48, f49, f50, f51,
               f52, f53, f54, f55, f56, f57, f58, f59, f60, f61, f62, f63)

}  // namespace fields_test

// Two unrelated structs of one name: each with a tag of its own.
namespace geometry {
struct Point {
  double x = 0;
  double y = 0;
};
CANNERY_FIELDS_TAGGED(Point, "geometry.Point", x, y)
}  // namespace geometry

namespace graphics {
struct Point {
  int x = 0;
  int y = 0;
  std::string color;
};
CANNERY_FIELDS_TAGGED(Point, "graphics.Point", x, y, color)

struct Pixel {
  std::uint8_t r, g, b, a;
};
CANNERY_RAW_BYTES_TAGGED(Pixel, "graphics.Pixel")
}  // namespace graphics

namespace {

using cannery::test::capture_error;
using cannery::test::wire;

using fields_test::Body;
using fields_test::Channel;
using fields_test::Hit;
using fields_test::Part;
using fields_test::Sample;

Body sample_body(std::size_t nparts, std::size_t nsamples) {
  Body b;
  b.position = Eigen::Vector3d(1.0, -2.5, 3.25);
  b.mass = 12.5;
  b.id = -42;
  b.name = "probe";
  b.core = {"core", 7};
  for (std::size_t i = 0; i < nparts; ++i) {
    b.parts.push_back({"part" + std::to_string(i), static_cast<int>(i * 3)});
  }
  for (std::size_t i = 0; i < nsamples; ++i)
    b.samples.push_back(static_cast<double>(i) / 7.0);
  return b;
}

}  // namespace

TEST_CASE("a CANNERY_FIELDS struct round-trips with all its fields", "[canning][fields]") {
  for (std::size_t nparts : {std::size_t{0}, std::size_t{3}}) {
    CAPTURE(nparts);
    Body body = sample_body(nparts, 10);
    auto canned = cannery::can(body);
    CHECK(canned.tag == "Body");
    CHECK(canned.buffers.empty());
    auto frames = wire(canned.frames());
    auto [back, rest] = cannery::deserialize_object<Body>(frames);
    CHECK(rest.empty());
    CHECK(back == body);
    CHECK(back.parts.size() == nparts);
    CHECK(back.position == body.position);
  }
}

TEST_CASE("a large array field of a described struct travels out of band", "[canning][fields]") {
  Body body = sample_body(2, 1000);
  auto canned = cannery::can(body);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(static_cast<const void*>(canned.buffers[0].data()) ==
        static_cast<const void*>(body.samples.data()));
  auto frames = wire(canned.frames());
  CHECK(cannery::deserialize_object<Body>(frames).value == body);

  // A vector of described structs is a list of them.
  std::vector<Body> bodies{sample_body(1, 2), sample_body(0, 500), sample_body(4, 0)};
  auto bframes = wire(cannery::serialize_object(bodies));
  CHECK(bframes.size() == 2);
  CHECK(cannery::deserialize_object<std::vector<Body>>(bframes).value == bodies);
}

TEST_CASE("a described struct reads its fields by name, in any order", "[canning][fields]") {
  // ["Part", {"count": 5, "extra": 1.0, "label": "gear"}], written by hand.
  cannery::Writer w;
  w.tagged("Part");
  w.dict(3);
  w.key("count");
  w.integer(5);
  w.key("extra");
  w.floating(1.0);
  w.key("label");
  w.string("gear");
  auto result = std::move(w).finish();
  std::vector<cannery::Buffer> frames{result.header};
  auto back = cannery::deserialize_object<Part>(frames).value;
  CHECK(back == Part{"gear", 5});
  // Reading a described struct as another described type is a type_mismatch (tags differ).
  auto e = capture_error([&] { (void)cannery::deserialize_object<Body>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);
}

TEST_CASE("a field missing on receipt is a type_mismatch naming it", "[canning][fields]") {
  fields_test::v1::Reading old{21.5, "C"};
  auto frames = wire(cannery::serialize_object(old));
  auto e =
      capture_error([&] { (void)cannery::deserialize_object<fields_test::v2::Reading>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);
  CHECK_THAT(std::string(e.what()), Catch::Contains("timestamp"));
  CHECK_THAT(std::string(e.what()), Catch::Contains("Reading"));
}

TEST_CASE("extra fields on receipt are ignored", "[canning][fields]") {
  fields_test::v2::Reading newer{-3.0, "K", 1700000000, {1, 2, 3}};
  auto frames = wire(cannery::serialize_object(newer));
  auto older = cannery::deserialize_object<fields_test::v1::Reading>(frames).value;
  CHECK(older.value == -3.0);
  CHECK(older.unit == "K");
  // And the newer reader still reads everything.
  auto again = cannery::deserialize_object<fields_test::v2::Reading>(frames).value;
  CHECK(again.timestamp == 1700000000);
  CHECK(again.flags == std::vector<int>{1, 2, 3});
}

TEST_CASE("a field of the wrong type is refused", "[canning][fields]") {
  // A dict wrapped in the "Part" tag whose "count" is a string.
  cannery::Writer w;
  w.tagged("Part");
  w.dict(2);
  w.key("label");
  w.string("x");
  w.key("count");
  w.string("not a number");
  auto result = std::move(w).finish();
  std::vector<cannery::Buffer> frames{result.header};
  auto e = capture_error([&] { (void)cannery::deserialize_object<Part>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);
}

TEST_CASE("a CANNERY_RAW_BYTES struct round-trips as its bytes", "[canning][fields]") {
  Hit hit{1.5f, -2.25f, 77u};
  auto canned = cannery::can(hit);
  CHECK(canned.tag == "Hit");
  CHECK(canned.buffers.empty());
  auto frames = wire(canned.frames());
  CHECK(cannery::deserialize_object<Hit>(frames).value == hit);

  // The payload is exactly sizeof(Hit) bytes; a wrong length is refused.
  cannery::Writer w;
  w.tagged("Hit");
  std::vector<std::byte> short_bytes(sizeof(Hit) - 1);
  w.bytes(cannery::Buffer::borrow(short_bytes.data(), short_bytes.size()));
  auto result = std::move(w).finish();
  std::vector<cannery::Buffer> bad{result.header};
  auto e = capture_error([&] { (void)cannery::deserialize_object<Hit>(bad); });
  CHECK(e.code() == cannery::errc::shape_mismatch);
}

TEST_CASE("a std::vector of raw-bytes structs travels as one buffer frame", "[canning][fields]") {
  std::vector<Hit> hits(1000);
  for (std::size_t i = 0; i < hits.size(); ++i) {
    hits[i] = {static_cast<float>(i) * 0.5f, -static_cast<float>(i),
               static_cast<std::uint32_t>(i % 16)};
  }
  auto canned = cannery::can(hits);
  CHECK(canned.tag == "ndarray");
  REQUIRE(canned.buffers.size() == 1);
  CHECK(canned.frame_count() == 2);
  CHECK(canned.buffers[0].size() == hits.size() * sizeof(Hit));
  CHECK(static_cast<const void*>(canned.buffers[0].data()) ==
        static_cast<const void*>(hits.data()));
  auto frames = wire(canned.frames());
  CHECK(cannery::deserialize_object<std::vector<Hit>>(frames).value == hits);
  auto array = cannery::deserialize_object<cannery::NDArray>(frames).value;
  CHECK(array.dtype().str() == "|V" + std::to_string(sizeof(Hit)));
  CHECK(array.shape() == cannery::NDArray::Shape{hits.size()});

  // Taken over when given by rvalue.
  auto copy = hits;
  const void* before = copy.data();
  auto moved = cannery::can(std::move(copy));
  REQUIRE(moved.buffers.size() == 1);
  CHECK(static_cast<const void*>(moved.buffers[0].data()) == before);

  // A small vector is inlined.
  std::vector<Hit> few(hits.begin(), hits.begin() + 5);
  auto few_frames = wire(cannery::serialize_object(few));
  CHECK(few_frames.size() == 1);
  CHECK(cannery::deserialize_object<std::vector<Hit>>(few_frames).value == few);

  // An array of another element type is refused.
  auto floats = cannery::serialize_object(std::vector<float>(30, 1.0f));
  auto e = capture_error([&] { (void)cannery::deserialize_object<std::vector<Hit>>(floats); });
  CHECK(e.code() == cannery::errc::type_mismatch);
}

TEST_CASE("raw-bytes structs proven free of padding round-trip", "[canning][fields]") {
  static_assert(sizeof(Sample) == 32);
  std::vector<Sample> samples;
  for (std::uint32_t i = 0; i < 100; ++i) {
    const auto f = static_cast<float>(i);
    samples.push_back(
        {0.5 * i, {{f, -f}, {f + 1, 2 * f}}, {static_cast<std::uint16_t>(i), 3, 0}, i});
  }
  auto frames = wire(cannery::serialize_object(samples));
  REQUIRE(frames.size() == 2);
  CHECK(frames[1].size() == samples.size() * sizeof(fields_test::Sample));
  CHECK(cannery::deserialize_object<std::vector<fields_test::Sample>>(frames).value == samples);
  auto one = wire(cannery::serialize_object(samples[7]));
  CHECK(cannery::deserialize_object<fields_test::Sample>(one).value == samples[7]);
  const Channel channel{9, 1, 0};
  CHECK(cannery::deserialize_object<Channel>(wire(cannery::serialize_object(channel))).value ==
        channel);
}

TEST_CASE("a struct of 64 fields round-trips", "[canning][fields]") {
  fields_test::Wide wide;
  wide.f0 = 100;
  wide.f31 = 131;
  wide.f63 = 163;
  auto frames = wire(cannery::serialize_object(wide));
  const auto back = cannery::deserialize_object<fields_test::Wide>(frames).value;
  CHECK(back.f0 == 100);
  CHECK(back.f31 == 131);
  CHECK(back.f63 == 163);
  // All 64 went out, each under its name.
  cannery::Writer w;
  w.tagged("Wide");
  w.dict(64);
  for (int i = 0; i < 64; ++i) {
    const std::string name = "f" + std::to_string(i);
    w.key(name);
    w.write(i + 1);
  }
  auto result = std::move(w).finish();
  const auto all = cannery::deserialize_object<fields_test::Wide>(wire({result.header})).value;
  CHECK(all.f0 == 1);
  CHECK(all.f17 == 18);
  CHECK(all.f63 == 64);
}

TEST_CASE("structs of one name in two namespaces do not collide with tags of their own",
          "[canning][fields]") {
  CHECK(cannery::can(geometry::Point{1.5, 2.5}).tag == "geometry.Point");
  CHECK(cannery::can(graphics::Point{1, 2, "red"}).tag == "graphics.Point");
  CHECK(cannery::can(graphics::Pixel{1, 2, 3, 4}).tag == "graphics.Pixel");
  // Both can be registered for dynamic receivers...
  CHECK_NOTHROW(cannery::register_type<geometry::Point>());
  CHECK_NOTHROW(cannery::register_type<graphics::Point>());
  CHECK_NOTHROW(cannery::register_type<graphics::Pixel>());
  // ...which then get each back as its own type.
  auto geometric = wire(cannery::serialize_object(geometry::Point{1.5, 2.5}));
  auto graphic = wire(cannery::serialize_object(graphics::Point{1, 2, "red"}));
  const auto a = cannery::deserialize_object(geometric).value;
  const auto b = cannery::deserialize_object(graphic).value;
  REQUIRE(a.kind() == cannery::Object::Kind::extension);
  REQUIRE(b.kind() == cannery::Object::Kind::extension);
  CHECK(a.as<geometry::Point>().y == 2.5);
  CHECK(b.as<graphics::Point>().color == "red");
  // A typed receiver tells them apart by their tags.
  auto e = capture_error([&] { (void)cannery::deserialize_object<graphics::Point>(geometric); });
  CHECK(e.code() == cannery::errc::type_mismatch);
  CHECK_THAT(e.message(), Catch::Contains("graphics.Point"));
  const auto pixel = cannery::deserialize_object<graphics::Pixel>(
                         wire(cannery::serialize_object(graphics::Pixel{1, 2, 3, 4})))
                         .value;
  CHECK(pixel.a == 4);
}

TEST_CASE("the default tag is the name as written, shared across namespaces", "[canning][fields]") {
  // v1::Reading and v2::Reading are versions of one wire type: one tag.
  CHECK(cannery::can(fields_test::v1::Reading{}).tag == "Reading");
  CHECK(cannery::can(fields_test::v2::Reading{}).tag == "Reading");
  CHECK_NOTHROW(cannery::register_type<fields_test::v1::Reading>());
  auto e = capture_error([] { cannery::register_type<fields_test::v2::Reading>(); });
  CHECK(e.code() == cannery::errc::duplicate_tag);
}
