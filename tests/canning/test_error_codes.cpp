// One test per error code that received bytes or a caller's misuse can raise:
// the code is the right one and the message says what to do where the code
// promises it. Headers are hand-built with msgpack's packer, so each test
// states exactly which bytes arrive.

#include <Eigen/Core>
#include <array>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <cannery/canning.hpp>

#include "hand_packed.hpp"

namespace codes {

struct Point {
  double x = 0;
  double y = 0;
};
CANNERY_FIELDS(Point, x, y)

// Two C++ types that both claim the tag "codes.Shared".
struct SharedA {
  int a = 0;
};
struct SharedB {
  int b = 0;
};

}  // namespace codes

template <>
struct cannery::canner<codes::SharedA> {
  static constexpr std::string_view tag = "codes.Shared";
  static void can(Writer& w, const codes::SharedA& v) { w.write(v.a); }
  static codes::SharedA uncan(const Node& n) { return {n.as<int>()}; }
};
template <>
struct cannery::canner<codes::SharedB> {
  static constexpr std::string_view tag = "codes.Shared";
  static void can(Writer& w, const codes::SharedB& v) { w.write(v.b); }
  static codes::SharedB uncan(const Node& n) { return {n.as<int>()}; }
};

// A type that claims a built-in tag.
namespace codes {
struct FakeList {
  int n = 0;
};
}  // namespace codes
template <>
struct cannery::canner<codes::FakeList> {
  static constexpr std::string_view tag = "list";
  static void can(Writer& w, const codes::FakeList& v) { w.write(v.n); }
  static codes::FakeList uncan(const Node& n) { return {n.as<int>()}; }
};

namespace {

using cannery::Buffer;
using cannery::errc;
using cannery::Object;
using Frames = std::vector<Buffer>;
using Packer = msgpack::packer<msgpack::sbuffer>;

// A header frame [version, root, nbuffers] whose root `write_root` packs.
Buffer header(const std::function<void(Packer&)>& write_root, std::uint64_t nbuffers = 0,
              std::uint64_t version = 1) {
  msgpack::sbuffer sbuf;
  Packer pk(sbuf);
  pk.pack_array(3);
  pk.pack_uint64(version);
  write_root(pk);
  pk.pack_uint64(nbuffers);
  return Buffer::copy_of(sbuf.data(), sbuf.size());
}

Buffer packed(const std::function<void(Packer&)>& write) {
  msgpack::sbuffer sbuf;
  Packer pk(sbuf);
  write(pk);
  return Buffer::copy_of(sbuf.data(), sbuf.size());
}

void pack_str(Packer& pk, std::string_view s) {
  pk.pack(std::string(s));
}

// An ndarray node whose data is buffer frame `index`.
void pack_ndarray(Packer& pk, const char* dtype, const std::vector<std::uint64_t>& shape,
                  const std::vector<std::int64_t>& strides, std::uint64_t index,
                  std::uint64_t offset = 0) {
  cannery::test::pack_ndarray_start(pk, dtype, shape, strides);
  pk.pack_uint64(index);
  pk.pack_uint64(offset);
}

Buffer doubles(std::size_t count) {
  std::vector<double> v(count, 1.5);
  return Buffer::copy_of(v.data(), v.size() * sizeof(double));
}

// Runs `f` and returns the cannery::error it throws; fails the test when it
// throws nothing or something else.
template <class F>
cannery::error error_of(F&& f) {
  try {
    f();
  } catch (const cannery::error& e) {
    return e;
  } catch (const std::exception& e) {
    FAIL(std::string("expected a cannery::error, got: ") + e.what());
  } catch (...) {
    FAIL("expected a cannery::error, got a non-std exception");
  }
  FAIL("expected a cannery::error, nothing was thrown");
  throw std::logic_error("unreachable");
}

template <class F>
void require_code(F&& f, errc expected) {
  const cannery::error e = error_of(std::forward<F>(f));
  INFO(e.what());
  REQUIRE(e.code() == expected);
  // what() is "cannery <code>: <message>"; message() is the bare text.
  CHECK(std::string(e.what()) ==
        "cannery " + std::string(cannery::to_string(expected)) + ": " + e.message());
  CHECK(!e.message().empty());
}

// Untyped and typed receivers must agree on the code.
template <class T>
void require_code_everywhere(const Frames& frames, errc expected) {
  require_code([&] { (void)cannery::deserialize_object(frames); }, expected);
  require_code([&] { (void)cannery::deserialize_object<T>(frames); }, expected);
}

// A list nested `depth` levels deep: ["list", [["list", [ ... null ... ]]]].
Buffer nested_list_header(std::size_t depth) {
  return header([&](Packer& pk) {
    for (std::size_t i = 0; i < depth; ++i) {
      pk.pack_array(2);
      pack_str(pk, "list");
      pk.pack_array(1);
    }
    pk.pack_nil();
  });
}

}  // namespace

TEST_CASE("every error code has a stable name", "[canning][errors]") {
  CHECK(cannery::to_string(errc::unknown_tag) == "unknown_tag");
  CHECK(cannery::to_string(errc::truncated_header) == "truncated_header");
  CHECK(cannery::to_string(errc::malformed_header) == "malformed_header");
  CHECK(cannery::to_string(errc::missing_buffers) == "missing_buffers");
  CHECK(cannery::to_string(errc::shape_mismatch) == "shape_mismatch");
  CHECK(cannery::to_string(errc::limit_exceeded) == "limit_exceeded");
  CHECK(cannery::to_string(errc::type_mismatch) == "type_mismatch");
  CHECK(cannery::to_string(errc::version_mismatch) == "version_mismatch");
  CHECK(cannery::to_string(errc::value_out_of_range) == "value_out_of_range");
  CHECK(cannery::to_string(errc::misaligned) == "misaligned");
  CHECK(cannery::to_string(errc::duplicate_key) == "duplicate_key");
  CHECK(cannery::to_string(errc::duplicate_tag) == "duplicate_tag");
  CHECK(cannery::to_string(errc::invalid_argument) == "invalid_argument");
}

TEST_CASE("truncated_header: the header frame ends inside a value", "[canning][errors]") {
  const Frames whole = cannery::serialize_object(std::string("a string long enough to cut"));
  // (Cut after one or two bytes, the outer array declares more items than
  // the frame has bytes, which is refused earlier, as malformed_header.)
  for (std::size_t cut :
       {std::size_t{3}, std::size_t{4}, whole[0].size() / 2, whole[0].size() - 1}) {
    INFO("cut to " << cut << " bytes");
    const Frames frames{whole[0].slice(0, cut)};
    require_code_everywhere<std::string>(frames, errc::truncated_header);
  }
  SECTION("an empty header frame") {
    require_code_everywhere<int>(Frames{Buffer{}}, errc::truncated_header);
  }
  SECTION("a bin that claims more bytes than follow") {
    const Buffer h = header([](Packer& pk) {
      pk.pack_bin(100);
      pk.pack_bin_body("abc", 3);
    });
    require_code_everywhere<std::vector<std::byte>>(Frames{h.slice(0, h.size() - 1)},
                                                    errc::truncated_header);
  }
}

TEST_CASE("malformed_header: msgpack, but not a cannery header", "[canning][errors]") {
  SECTION("not an array") {
    require_code_everywhere<int>(Frames{packed([](Packer& pk) { pk.pack(42); })},
                                 errc::malformed_header);
    const cannery::error e = error_of(
        [] { (void)cannery::deserialize_object(Frames{packed([](Packer& pk) { pk.pack(42); })}); });
    CHECK_THAT(e.message(), Catch::Contains("[version, root, buffer_count]"));
  }
  SECTION("an array of the wrong length") {
    const Frames two{packed([](Packer& pk) {
      pk.pack_array(2);
      pk.pack_uint64(1);
      pk.pack_nil();
    })};
    require_code_everywhere<std::nullptr_t>(two, errc::malformed_header);
    const Frames four{packed([](Packer& pk) {
      pk.pack_array(4);
      pk.pack_uint64(1);
      pk.pack_nil();
      pk.pack_uint64(0);
      pk.pack_uint64(0);
    })};
    require_code_everywhere<std::nullptr_t>(four, errc::malformed_header);
  }
  SECTION("trailing bytes after the header") {
    const Frames frames = cannery::serialize_object(7);
    std::vector<std::byte> bytes(frames[0].data(), frames[0].data() + frames[0].size());
    bytes.push_back(std::byte{0xc0});
    require_code_everywhere<int>(Frames{Buffer::copy_of(bytes.data(), bytes.size())},
                                 errc::malformed_header);
  }
  SECTION("a version that is not an unsigned integer") {
    const Frames frames{packed([](Packer& pk) {
      pk.pack_array(3);
      pack_str(pk, "1");
      pk.pack_nil();
      pk.pack_uint64(0);
    })};
    require_code_everywhere<std::nullptr_t>(frames, errc::malformed_header);
  }
  SECTION("a buffer count that is not an unsigned integer") {
    const Frames frames{packed([](Packer& pk) {
      pk.pack_array(3);
      pk.pack_uint64(1);
      pk.pack_nil();
      pk.pack_int64(-1);
    })};
    require_code_everywhere<std::nullptr_t>(frames, errc::malformed_header);
  }
  SECTION("bytes that are not msgpack at all") {
    const std::byte never_used{0xc1};  // reserved in msgpack
    require_code_everywhere<int>(Frames{Buffer::copy_of(&never_used, 1)}, errc::malformed_header);
  }
  SECTION("an untagged array where a value belongs") {
    const Frames frames{header([](Packer& pk) {
      pk.pack_array(3);
      pk.pack(1);
      pk.pack(2);
      pk.pack(3);
    })};
    require_code([&] { (void)cannery::deserialize_object(frames); }, errc::malformed_header);
  }
  SECTION("a dict key that is not a string") {
    const Frames frames{header([](Packer& pk) {
      pk.pack_map(1);
      pk.pack(1);
      pk.pack(2);
    })};
    require_code_everywhere<std::map<std::string, int>>(frames, errc::malformed_header);
  }
  SECTION("an ndarray payload with too few items") {
    const Frames frames{header([](Packer& pk) {
      pk.pack_array(2);
      pack_str(pk, "ndarray");
      pk.pack_array(2);
      pack_str(pk, "<f8");
      pk.pack_array(0);
    })};
    require_code_everywhere<std::vector<double>>(frames, errc::malformed_header);
  }
  SECTION("an array that declares more items than the header has bytes") {
    const Frames frames{header([](Packer& pk) { pk.pack_array(1000); })};
    require_code_everywhere<std::vector<std::string>>(frames, errc::malformed_header);
  }
}

TEST_CASE("missing_buffers: fewer frames than the header promises", "[canning][errors]") {
  SECTION("the header claims 2 buffers, 1 frame follows") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {4}, {8}, 1); }, 2),
                        doubles(4)};
    require_code_everywhere<std::vector<double>>(frames, errc::missing_buffers);
    const cannery::error e = error_of([&] { (void)cannery::deserialize_object(frames); });
    CHECK_THAT(e.message(),
               Catch::Contains("2 buffer frames") && Catch::Contains("1 frames follow"));
  }
  SECTION("a buffer index past the object's buffers") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {4}, {8}, 1); }, 1),
                        doubles(4), doubles(4)};
    // The frame after the object's own is the next object's, not this one's.
    require_code_everywhere<std::vector<double>>(frames, errc::missing_buffers);
  }
  SECTION("out-of-band bytes without their frame") {
    const Frames frames{header(
        [](Packer& pk) {
          pk.pack_array(2);
          pack_str(pk, "bytes");
          pk.pack_uint64(0);
        },
        0)};
    require_code_everywhere<std::vector<std::byte>>(frames, errc::missing_buffers);
  }
  SECTION("no frame at all") {
    require_code_everywhere<int>(Frames{}, errc::missing_buffers);
  }
  SECTION("a message cut short after its header") {
    std::vector<double> big(1000, 2.0);
    Frames frames = cannery::serialize_object(big);
    REQUIRE(frames.size() == 2);
    frames.pop_back();
    require_code_everywhere<std::vector<double>>(frames, errc::missing_buffers);
  }
}

TEST_CASE("shape_mismatch: shape, strides or size disagree with the data or the type",
          "[canning][errors]") {
  SECTION("more elements than the data holds") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {10}, {8}, 0); }, 1),
                        doubles(4)};
    require_code_everywhere<std::vector<double>>(frames, errc::shape_mismatch);
  }
  SECTION("strides that reach outside the data") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {4}, {16}, 0); }, 1),
                        doubles(4)};
    require_code_everywhere<std::vector<double>>(frames, errc::shape_mismatch);
  }
  SECTION("a negative stride from offset 0") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {2}, {-8}, 0); }, 1),
                        doubles(4)};
    require_code_everywhere<std::vector<double>>(frames, errc::shape_mismatch);
  }
  SECTION("the wrong number of elements for a fixed-size type") {
    const Frames frames = cannery::serialize_object(std::vector<double>{1, 2, 3, 4});
    require_code([&] { (void)cannery::deserialize_object<std::array<double, 3>>(frames); },
                 errc::shape_mismatch);
    require_code([&] { (void)cannery::deserialize_object<Eigen::Vector3d>(frames); },
                 errc::shape_mismatch);
    Eigen::Matrix2d m = Eigen::Matrix2d::Identity();
    require_code(
        [&] { (void)cannery::deserialize_object<Eigen::Matrix3d>(cannery::serialize_object(m)); },
        errc::shape_mismatch);
  }
  SECTION("a 2-D array where a 1-D one is needed") {
    Eigen::MatrixXd m = Eigen::MatrixXd::Zero(2, 3);
    require_code(
        [&] {
          (void)cannery::deserialize_object<std::vector<double>>(cannery::serialize_object(m));
        },
        errc::shape_mismatch);
  }
  SECTION("a span of a non-contiguous array") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {2}, {16}, 0); }, 1),
                        doubles(4)};
    const cannery::error e =
        error_of([&] { (void)cannery::deserialize_object<std::span<const double>>(frames); });
    CHECK(e.code() == errc::shape_mismatch);
    CHECK_THAT(e.message(), Catch::Contains("contiguous()"));
  }
  SECTION("an index past a received list") {
    const Object list(Object::List{Object(1), Object(2)});
    require_code([&] { (void)list.at(std::size_t{2}); }, errc::shape_mismatch);
  }
}

TEST_CASE("limit_exceeded: depth, buffer count, header size and ndim", "[canning][errors]") {
  SECTION("Limits::max_depth on receipt") {
    const Frames frames{nested_list_header(10)};
    cannery::Limits limits;
    limits.max_depth = 5;
    require_code([&] { (void)cannery::deserialize_object(frames, limits); }, errc::limit_exceeded);
    const cannery::error e = error_of([&] { (void)cannery::deserialize_object(frames, limits); });
    CHECK_THAT(e.message(), Catch::Contains("Limits::max_depth"));
    limits.max_depth = 64;
    CHECK_NOTHROW(cannery::deserialize_object(frames, limits));
  }
  SECTION("Limits::max_buffers") {
    std::vector<std::vector<double>> arrays(3, std::vector<double>(200, 1.0));
    const Frames frames = cannery::serialize_object(arrays);
    REQUIRE(frames.size() == 4);
    cannery::Limits limits;
    limits.max_buffers = 2;
    require_code([&] { (void)cannery::deserialize_object(frames, limits); }, errc::limit_exceeded);
    require_code(
        [&] {
          (void)cannery::deserialize_object<std::vector<std::vector<double>>>(frames, limits);
        },
        errc::limit_exceeded);
    limits.max_buffers = 3;
    CHECK_NOTHROW(cannery::deserialize_object(frames, limits));
  }
  SECTION("Limits::max_header_bytes") {
    const Frames frames = cannery::serialize_object(std::string(200, 'x'));
    cannery::Limits limits;
    limits.max_header_bytes = 100;
    const cannery::error e = error_of([&] { (void)cannery::deserialize_object(frames, limits); });
    CHECK(e.code() == errc::limit_exceeded);
    CHECK_THAT(e.message(), Catch::Contains("Limits::max_header_bytes"));
    require_code([&] { (void)cannery::deserialize_object<std::string>(frames, limits); },
                 errc::limit_exceeded);
  }
  SECTION("more dimensions than an array may have") {
    const Frames frames{header(
                            [](Packer& pk) {
                              pack_ndarray(pk, "<f8", std::vector<std::uint64_t>(33, 1),
                                           std::vector<std::int64_t>(33, 8), 0);
                            },
                            1),
                        doubles(1)};
    require_code_everywhere<cannery::NDArray>(frames, errc::limit_exceeded);
  }
  SECTION("SerializeOptions::max_depth on the sending side") {
    Object nested(nullptr);
    for (int i = 0; i < 10; ++i) {
      Object::List items;
      items.push_back(std::move(nested));
      nested = Object(std::move(items));
    }
    cannery::SerializeOptions options;
    options.max_depth = 5;
    const cannery::error e = error_of([&] { (void)cannery::serialize_object(nested, options); });
    CHECK(e.code() == errc::limit_exceeded);
    CHECK_THAT(e.message(), Catch::Contains("SerializeOptions::max_depth"));
    options.max_depth = 64;
    CHECK_NOTHROW(cannery::serialize_object(nested, options));

    // A typed container nests the same way.
    std::vector<std::vector<std::vector<std::string>>> lists{{{"deep"}}};
    options.max_depth = 2;
    require_code([&] { (void)cannery::serialize_object(lists, options); }, errc::limit_exceeded);
  }
}

// cannery::Object is a value tree: it holds its children by value, so it
// cannot contain itself and a cycle cannot be built. The deepest thing it can
// be is a long chain, which the writer refuses at SerializeOptions::max_depth
// instead of recursing until the stack overflows.
TEST_CASE("a 10,000-level nested Object is refused by the writer, not a stack overflow",
          "[canning][errors]") {
  Object nested(std::int64_t{1});
  for (int i = 0; i < 10'000; ++i) {
    Object::List items;
    items.push_back(std::move(nested));
    nested = Object(std::move(items));
  }
  require_code([&] { (void)cannery::serialize_object(nested); }, errc::limit_exceeded);
  // A shallow value still serializes.
  CHECK(cannery::serialize_object(Object(Object::List{Object(1)})).size() == 1);
}

TEST_CASE("a header nested 100,000 levels deep is refused on receipt", "[canning][errors]") {
  const Frames lists{nested_list_header(100'000)};
  require_code_everywhere<std::vector<Object>>(lists, errc::limit_exceeded);
  // Raw msgpack arrays and maps nested as deep, outside any tag.
  const Frames arrays{header([](Packer& pk) {
    for (int i = 0; i < 100'000; ++i)
      pk.pack_array(1);
    pk.pack_nil();
  })};
  require_code_everywhere<Object>(arrays, errc::limit_exceeded);
  const Frames maps{header([](Packer& pk) {
    for (int i = 0; i < 100'000; ++i) {
      pk.pack_map(1);
      pack_str(pk, "k");
    }
    pk.pack_nil();
  })};
  require_code_everywhere<std::map<std::string, Object>>(maps, errc::limit_exceeded);
}

TEST_CASE("type_mismatch: the node is not what the requested type needs", "[canning][errors]") {
  SECTION("a native value of another kind") {
    const Frames frames = cannery::serialize_object(42);
    const cannery::error e =
        error_of([&] { (void)cannery::deserialize_object<std::string>(frames); });
    CHECK(e.code() == errc::type_mismatch);
    CHECK_THAT(e.message(), Catch::Contains("expected str") && Catch::Contains("int"));
    require_code([&] { (void)cannery::deserialize_object<bool>(frames); }, errc::type_mismatch);
    require_code([&] { (void)cannery::deserialize_object<std::vector<double>>(frames); },
                 errc::type_mismatch);
  }
  SECTION("an array of another dtype") {
    const Frames frames = cannery::serialize_object(std::vector<double>{1, 2});
    const cannery::error e =
        error_of([&] { (void)cannery::deserialize_object<std::vector<std::int32_t>>(frames); });
    CHECK(e.code() == errc::type_mismatch);
    CHECK_THAT(e.message(), Catch::Contains("<i4") && Catch::Contains("<f8"));
  }
  SECTION("a dtype this library does not know") {
    const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<x9", {1}, {8}, 0); }, 1),
                        doubles(1)};
    require_code_everywhere<cannery::NDArray>(frames, errc::type_mismatch);
  }
  SECTION("a struct that arrives without one of its fields") {
    const Frames frames{header([](Packer& pk) {
      pk.pack_array(2);
      pack_str(pk, "Point");
      pk.pack_map(1);
      pack_str(pk, "x");
      pk.pack_double(1.0);
    })};
    const cannery::error e =
        error_of([&] { (void)cannery::deserialize_object<codes::Point>(frames); });
    CHECK(e.code() == errc::type_mismatch);
    CHECK_THAT(e.message(), Catch::Contains("'y'"));
  }
  SECTION("a tagged value with another tag") {
    const Frames frames = cannery::serialize_object(codes::Point{1, 2});
    require_code([&] { (void)cannery::deserialize_object<std::vector<int>>(frames); },
                 errc::type_mismatch);
  }
  SECTION("a dynamic Object asked for the wrong kind") {
    const Object o("text");
    require_code([&] { (void)o.to_int64(); }, errc::type_mismatch);
    require_code([&] { (void)o.as<double>(); }, errc::type_mismatch);
  }
}

TEST_CASE("version_mismatch: a format version this build does not read", "[canning][errors]") {
  const Frames frames{header([](Packer& pk) { pk.pack_nil(); }, 0, 2)};
  const cannery::error e = error_of([&] { (void)cannery::deserialize_object(frames); });
  CHECK(e.code() == errc::version_mismatch);
  CHECK_THAT(e.message(), Catch::Contains("version 2") && Catch::Contains("upgrade"));
  require_code([&] { (void)cannery::deserialize_object<std::nullptr_t>(frames); },
               errc::version_mismatch);
  const Frames zero{header([](Packer& pk) { pk.pack_nil(); }, 0, 0)};
  require_code([&] { (void)cannery::deserialize_object(zero); }, errc::version_mismatch);
}

TEST_CASE("value_out_of_range: a number that does not fit the requested type",
          "[canning][errors]") {
  require_code(
      [] { (void)cannery::deserialize_object<std::int8_t>(cannery::serialize_object(300)); },
      errc::value_out_of_range);
  require_code([] { (void)cannery::deserialize_object<unsigned>(cannery::serialize_object(-1)); },
               errc::value_out_of_range);
  require_code(
      [] {
        (void)cannery::deserialize_object<std::int64_t>(
            cannery::serialize_object(std::numeric_limits<std::uint64_t>::max()));
      },
      errc::value_out_of_range);
  // A dynamic Object keeps a large unsigned value, and refuses it as int64.
  const Object big = cannery::deserialize_object(
                         cannery::serialize_object(std::numeric_limits<std::uint64_t>::max()))
                         .value;
  require_code([&] { (void)big.to_int64(); }, errc::value_out_of_range);
  // An array extent that is negative on the wire.
  const Frames frames{header(
                          [](Packer& pk) {
                            pk.pack_array(2);
                            pack_str(pk, "ndarray");
                            pk.pack_array(5);
                            pack_str(pk, "<f8");
                            pk.pack_array(1);
                            pk.pack_int64(-1);
                            pk.pack_array(1);
                            pk.pack_int64(8);
                            pk.pack_uint64(0);
                            pk.pack_uint64(0);
                          },
                          1),
                      doubles(1)};
  require_code_everywhere<std::vector<double>>(frames, errc::value_out_of_range);
}

TEST_CASE("misaligned: data not aligned for an in-place view", "[canning][errors]") {
  std::vector<double> storage(5, 2.5);
  const Buffer whole = Buffer::borrow(storage.data(), storage.size() * sizeof(double));
  const cannery::NDArray shifted(cannery::dtype_of<double>(), {4}, {8},
                                 whole.slice(1, 4 * sizeof(double)));
  const cannery::error e = error_of([&] { (void)shifted.data_as<double>(); });
  CHECK(e.code() == errc::misaligned);
  CHECK_THAT(e.message(), Catch::Contains("contiguous()"));
  require_code([&] { (void)shifted.span<double>(); }, errc::misaligned);
  // The advice works: a contiguous copy is aligned.
  CHECK(shifted.contiguous().data_as<double>() != nullptr);

  // Received: a buffer frame that starts one byte into an allocation.
  const Buffer frame =
      Buffer::copy_of(storage.data(), storage.size() * sizeof(double)).slice(1, 32);
  const Frames frames{header([](Packer& pk) { pack_ndarray(pk, "<f8", {4}, {8}, 0); }, 1), frame};
  require_code([&] { (void)cannery::deserialize_object<std::span<const double>>(frames); },
               errc::misaligned);
  // Owning types copy, so they do not care.
  CHECK(cannery::deserialize_object<std::vector<double>>(frames).value.size() == 4);
}

TEST_CASE("duplicate_key: a dict that names the same key twice", "[canning][errors]") {
  const Frames frames{header([](Packer& pk) {
    pk.pack_map(2);
    pack_str(pk, "a");
    pk.pack(1);
    pack_str(pk, "a");
    pk.pack(2);
  })};
  const cannery::error e = error_of([&] { (void)cannery::deserialize_object(frames); });
  CHECK(e.code() == errc::duplicate_key);
  CHECK_THAT(e.message(), Catch::Contains("'a'"));
  require_code([&] { (void)cannery::deserialize_object<std::map<std::string, int>>(frames); },
               errc::duplicate_key);
  require_code(
      [&] { (void)cannery::deserialize_object<std::unordered_map<std::string, int>>(frames); },
      errc::duplicate_key);
}

TEST_CASE("unknown_tag: a tagged node whose tag has no registered canner", "[canning][errors]") {
  const Frames frames{header([](Packer& pk) {
    pk.pack_array(2);
    pack_str(pk, "no.such.Type");
    pk.pack(1);
  })};
  const cannery::error e = error_of([&] { (void)cannery::deserialize_object(frames); });
  CHECK(e.code() == errc::unknown_tag);
  CHECK_THAT(e.message(), Catch::Contains("no.such.Type") && Catch::Contains("register_type"));
  // Nested inside a list, too.
  const Frames nested{header([](Packer& pk) {
    pk.pack_array(2);
    pack_str(pk, "list");
    pk.pack_array(1);
    pk.pack_array(2);
    pack_str(pk, "no.such.Type");
    pk.pack_nil();
  })};
  require_code([&] { (void)cannery::deserialize_object(nested); }, errc::unknown_tag);
  // A typed receiver does not consult the registry: it reports the tag it expected.
  require_code([&] { (void)cannery::deserialize_object<codes::Point>(frames); },
               errc::type_mismatch);
}

TEST_CASE("duplicate_tag: two C++ types registered under one tag", "[canning][errors]") {
  CHECK_NOTHROW(cannery::register_type<codes::SharedA>());
  CHECK_NOTHROW(cannery::register_type<codes::SharedA>());  // again: harmless
  const cannery::error e = error_of([] { (void)cannery::register_type<codes::SharedB>(); });
  CHECK(e.code() == errc::duplicate_tag);
  CHECK_THAT(e.message(), Catch::Contains("codes.Shared"));
  const cannery::error builtin = error_of([] { (void)cannery::register_type<codes::FakeList>(); });
  CHECK(builtin.code() == errc::duplicate_tag);
  CHECK_THAT(builtin.message(), Catch::Contains("built in"));
}

TEST_CASE("invalid_argument: misuse of apply messages", "[canning][errors]") {
  require_code([] { (void)cannery::pack_apply_message("f", cannery::kw("k", 1), 2); },
               errc::invalid_argument);
  const Frames frames = cannery::pack_apply_message("f", 1.0, cannery::kw("k", 2));
  cannery::ApplyMessage call = cannery::unpack_apply_message(frames);
  require_code([&] { (void)call.next_kwarg<int>(); }, errc::invalid_argument);
  CHECK(call.next_arg<double>() == 1.0);
  require_code([&] { (void)call.next_arg<double>(); }, errc::invalid_argument);
  CHECK(call.next_kwarg<int>().second == 2);
  require_code([&] { (void)call.next_kwarg<int>(); }, errc::invalid_argument);
}
