// Round trips of arrays: std::vector / std::array of every element type,
// bytes, zero-copy spans and NDArray views with arbitrary strides, and the
// borrow-or-take rule for lvalues and rvalues.

#include <array>
#include <bit>
#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>
#include "test_support.hpp"

namespace {

using cannery::test::addr;
using cannery::test::capture_error;
using cannery::test::inside;
using cannery::test::wire;

template <class T>
T value_at(std::size_t i) {
  if constexpr (std::is_same_v<T, bool>) {
    return i % 3 == 0;
  } else if constexpr (cannery::detail::is_complex<T>::value) {
    using R = typename T::value_type;
    return T(static_cast<R>(i) * R(0.5), -static_cast<R>(i % 17));
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(static_cast<double>(i) * 0.25 - 3.0);
  } else {
    // Exercise high bits of the type while staying in range.
    return static_cast<T>((i * 37 + 11) % 100);
  }
}

template <class T>
std::vector<T> make_values(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = value_at<T>(i);
  return v;
}

}  // namespace

TEMPLATE_TEST_CASE("std::vector of every arithmetic and complex type round-trips",
                   "[canning][arrays]", char, signed char, unsigned char, wchar_t, char8_t,
                   char16_t, char32_t, short, unsigned short, int, unsigned, long, unsigned long,
                   long long, unsigned long long, float, double, std::complex<float>,
                   std::complex<double>) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{3000}}) {
    CAPTURE(n);
    const auto values = make_values<TestType>(n);
    auto canned = cannery::can(values);
    CHECK(canned.tag == "ndarray");
    const bool out_of_band = n * sizeof(TestType) > 1024;
    CHECK(canned.buffers.size() == (out_of_band ? 1u : 0u));
    auto frames = wire(canned.frames());
    auto [back, rest] = cannery::deserialize_object<std::vector<TestType>>(frames);
    CHECK(rest.empty());
    CHECK(back == values);
    // The element type is stated with numpy's dtype.
    auto array = cannery::deserialize_object<cannery::NDArray>(frames).value;
    CHECK(array.dtype() == cannery::dtype_of<TestType>());
    CHECK(array.dtype().str() == cannery::dtype_of<TestType>().str());
    CHECK(array.shape() == cannery::NDArray::Shape{n});
  }
}

TEMPLATE_TEST_CASE("std::array of every arithmetic and complex type round-trips",
                   "[canning][arrays]", bool, char, std::int8_t, std::uint8_t, std::int16_t,
                   std::uint16_t, std::int32_t, std::uint32_t, std::int64_t, std::uint64_t, float,
                   double, std::complex<float>, std::complex<double>) {
  std::array<TestType, 7> small{};
  for (std::size_t i = 0; i < small.size(); ++i)
    small[i] = value_at<TestType>(i);
  auto frames = wire(cannery::serialize_object(small));
  CHECK(frames.size() == 1);
  CHECK(cannery::deserialize_object<std::array<TestType, 7>>(frames).value == small);

  std::array<TestType, 600> large{};
  for (std::size_t i = 0; i < large.size(); ++i)
    large[i] = value_at<TestType>(i);
  auto large_frames = wire(cannery::serialize_object(large));
  CHECK(large_frames.size() == (sizeof(large) > 1024 ? 2u : 1u));
  CHECK(cannery::deserialize_object<std::array<TestType, 600>>(large_frames).value == large);

  // A std::array of the wrong length is refused.
  auto e =
      capture_error([&] { (void)cannery::deserialize_object<std::array<TestType, 8>>(frames); });
  CHECK(e.code() == cannery::errc::shape_mismatch);
}

TEST_CASE("an array of one type read as another is a type_mismatch", "[canning][arrays]") {
  auto frames = cannery::serialize_object(std::vector<float>{1.0f, 2.0f});
  auto e = capture_error([&] { (void)cannery::deserialize_object<std::vector<double>>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);
  auto e2 =
      capture_error([&] { (void)cannery::deserialize_object<std::vector<std::int32_t>>(frames); });
  CHECK(e2.code() == cannery::errc::type_mismatch);
  // Same size, different signedness.
  auto iframes = cannery::serialize_object(std::vector<std::int32_t>{1, -2});
  auto e3 = capture_error(
      [&] { (void)cannery::deserialize_object<std::vector<std::uint32_t>>(iframes); });
  CHECK(e3.code() == cannery::errc::type_mismatch);
}

TEST_CASE("std::vector<bool> round-trips as a bool array", "[canning][arrays]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{13}, std::size_t{5000}}) {
    CAPTURE(n);
    std::vector<bool> bits(n);
    for (std::size_t i = 0; i < n; ++i)
      bits[i] = (i * 7) % 3 == 1;
    auto canned = cannery::can(bits);
    CHECK(canned.buffers.size() == (n > 1024 ? 1u : 0u));
    auto frames = wire(canned.frames());
    CHECK(cannery::deserialize_object<std::vector<bool>>(frames).value == bits);
    auto array = cannery::deserialize_object<cannery::NDArray>(frames).value;
    CHECK(array.dtype().str() == "|b1");
    // Readable as std::array<bool, N> too, where it fits.
    if (n == 13) {
      auto arr = cannery::deserialize_object<std::array<bool, 13>>(frames).value;
      for (std::size_t i = 0; i < n; ++i)
        CHECK(arr[i] == bits[i]);
    }
  }
}

TEST_CASE("std::vector<std::byte> and cannery::Buffer travel as bytes", "[canning][arrays]") {
  for (std::size_t n : {std::size_t{0}, std::size_t{10}, std::size_t{1024}, std::size_t{1025},
                        std::size_t{100000}}) {
    CAPTURE(n);
    std::vector<std::byte> bytes(n);
    for (std::size_t i = 0; i < n; ++i)
      bytes[i] = static_cast<std::byte>(i * 31 % 251);
    auto canned = cannery::can(bytes);
    CHECK(canned.tag == "bytes");
    CHECK(canned.buffers.size() == (n > 1024 ? 1u : 0u));
    if (n > 1024) CHECK(addr(canned.buffers[0].data()) == addr(bytes.data()));
    auto frames = wire(canned.frames());
    CHECK(cannery::deserialize_object<std::vector<std::byte>>(frames).value == bytes);

    auto buffer = cannery::Buffer::copy_of(bytes.data(), bytes.size());
    auto bframes = wire(cannery::serialize_object(buffer));
    auto back = cannery::deserialize_object<cannery::Buffer>(bframes).value;
    CHECK(back == buffer);
    // The uncanned Buffer views the received frame.
    if (n > 1024) {
      REQUIRE(bframes.size() == 2);
      CHECK(back.data() == bframes[1].data());
    } else if (n > 0) {
      CHECK(inside(back.data(), bframes[0]));
    }
    // Bytes and Buffer share one wire form.
    CHECK(cannery::deserialize_object<cannery::Buffer>(frames).value == buffer);
  }
}

TEST_CASE("an rvalue std::vector<std::byte> is taken over, not copied", "[canning][arrays]") {
  std::vector<std::byte> bytes(4096, std::byte{3});
  const void* before = bytes.data();
  auto canned = cannery::can(std::move(bytes));
  REQUIRE(canned.buffers.size() == 1);
  CHECK(addr(canned.buffers[0].data()) == before);
  CHECK_FALSE(canned.buffers[0].is_borrowed());
}

TEST_CASE("std::span<const double> is uncanned as a zero-copy view of the received frame",
          "[canning][arrays]") {
  std::vector<double> values(5000);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(i) / 3.0;
  auto frames = wire(cannery::serialize_object(std::span<const double>(values)));
  REQUIRE(frames.size() == 2);
  auto [view, rest] = cannery::deserialize_object<std::span<const double>>(frames);
  CHECK(rest.empty());
  REQUIRE(view.size() == values.size());
  CHECK(addr(view.data()) == addr(frames[1].data()));
  CHECK(inside(view.data(), frames[1]));
  CHECK(std::equal(view.begin(), view.end(), values.begin()));

  // A small one is a view into the header frame, aligned for doubles.
  std::vector<double> few{1.0, 2.0, 3.0};
  auto small_frames = wire(cannery::serialize_object(few));
  REQUIRE(small_frames.size() == 1);
  auto small_view = cannery::deserialize_object<std::span<const double>>(small_frames).value;
  REQUIRE(small_view.size() == 3);
  CHECK(inside(small_view.data(), small_frames[0]));
  CHECK(reinterpret_cast<std::uintptr_t>(small_view.data()) % alignof(double) == 0);
  CHECK(small_view[2] == 3.0);

  // A vector canned on one side can be viewed as a span on the other.
  auto vframes = wire(cannery::serialize_object(values));
  CHECK(addr(cannery::deserialize_object<std::span<const double>>(vframes).value.data()) ==
        addr(vframes[1].data()));
}

TEST_CASE("a span view needs a contiguous array", "[canning][arrays]") {
  std::vector<double> base(20);
  for (std::size_t i = 0; i < base.size(); ++i)
    base[i] = static_cast<double>(i);
  cannery::NDArray strided(cannery::dtype_of<double>(), {10}, {16},
                           cannery::Buffer::borrow(base.data(), base.size() * sizeof(double)));
  auto frames = wire(cannery::serialize_object(strided));
  auto e =
      capture_error([&] { (void)cannery::deserialize_object<std::span<const double>>(frames); });
  CHECK(e.code() == cannery::errc::shape_mismatch);
  // The owning form gathers it.
  auto v = cannery::deserialize_object<std::vector<double>>(frames).value;
  REQUIRE(v.size() == 10);
  for (std::size_t i = 0; i < v.size(); ++i)
    CHECK(v[i] == static_cast<double>(2 * i));
}

TEST_CASE("an NDArray with an offset and a stride (every other element) round-trips",
          "[canning][arrays]") {
  for (std::size_t n : {std::size_t{6}, std::size_t{1000}}) {
    CAPTURE(n);
    std::vector<double> base(2 * n + 1);
    for (std::size_t i = 0; i < base.size(); ++i)
      base[i] = static_cast<double>(i) * 1.5;
    // Odd elements: offset one element, stride two.
    cannery::NDArray odd(cannery::dtype_of<double>(), {n}, {std::ptrdiff_t{16}},
                         cannery::Buffer::borrow(base.data(), base.size() * sizeof(double)),
                         sizeof(double));
    CHECK_FALSE(odd.is_c_contiguous());
    auto canned = cannery::can(odd);
    // Only the bytes the array can address travel, without a copy.
    const std::size_t extent = ((n - 1) * 2 + 1) * sizeof(double);
    if (extent > 1024) {
      REQUIRE(canned.buffers.size() == 1);
      CHECK(canned.buffers[0].size() == extent);
      CHECK(addr(canned.buffers[0].data()) == addr(base.data() + 1));
    } else {
      CHECK(canned.buffers.empty());
    }
    auto frames = wire(canned.frames());
    auto back = cannery::deserialize_object<cannery::NDArray>(frames).value;
    CHECK(back.shape() == odd.shape());
    CHECK(back.strides() == odd.strides());
    CHECK(back.dtype() == odd.dtype());
    auto values = cannery::deserialize_object<std::vector<double>>(frames).value;
    REQUIRE(values.size() == n);
    for (std::size_t i = 0; i < n; ++i)
      CHECK(values[i] == base[2 * i + 1]);
    auto copy = back.contiguous();
    CHECK(copy.is_c_contiguous());
    auto span = copy.span<double>();
    CHECK(std::equal(span.begin(), span.end(), values.begin()));
  }
}

TEST_CASE("an NDArray whose elements share bytes is sent gathered", "[canning][arrays]") {
  // Strides of 0 (one value repeated) and of 4 bytes for 8-byte items: the
  // elements span fewer bytes than the array stands for, which a receiver
  // refuses; they used to go as that span, unreadable once sent.
  std::vector<double> base{1.5, 2.5, 3.5};
  const auto data = cannery::Buffer::borrow(base.data(), base.size() * sizeof(double));
  for (std::ptrdiff_t stride : {std::ptrdiff_t{0}, std::ptrdiff_t{4}}) {
    CAPTURE(stride);
    cannery::NDArray shared(cannery::dtype_of<double>(), {3}, {stride}, data);
    auto frames = wire(cannery::serialize_object(shared));
    auto back = cannery::deserialize_object<cannery::NDArray>(frames).value;
    CHECK(back.is_c_contiguous());
    CHECK(back.shape() == shared.shape());
    std::vector<double> expected(3), got(3);
    shared.copy_to(reinterpret_cast<std::byte*>(expected.data()));
    back.copy_to(reinterpret_cast<std::byte*>(got.data()));
    CHECK(got == expected);
    CHECK(cannery::deserialize_object<std::vector<double>>(frames).value == expected);
  }
}

TEST_CASE("a 2-D Fortran-ordered NDArray and a reversed 1-D one round-trip", "[canning][arrays]") {
  std::vector<std::int32_t> base(12);
  for (std::size_t i = 0; i < base.size(); ++i)
    base[i] = static_cast<std::int32_t>(i * i);
  // 3 x 4, element [i][j] at base[i + 3 j].
  cannery::NDArray f(cannery::dtype_of<std::int32_t>(), {3, 4}, {4, 12},
                     cannery::Buffer::borrow(base.data(), base.size() * 4));
  CHECK(f.is_f_contiguous());
  auto frames = wire(cannery::serialize_object(f));
  auto back = cannery::deserialize_object<cannery::NDArray>(frames).value;
  CHECK(back.strides() == f.strides());
  auto c = back.contiguous();
  auto span = c.span<std::int32_t>();
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 4; ++j)
      CHECK(span[i * 4 + j] == base[i + 3 * j]);
  }

  // Negative stride: the elements in reverse.
  std::vector<double> line(300);
  for (std::size_t i = 0; i < line.size(); ++i)
    line[i] = static_cast<double>(i);
  cannery::NDArray reversed(cannery::dtype_of<double>(), {line.size()}, {-8},
                            cannery::Buffer::borrow(line.data(), line.size() * 8),
                            (line.size() - 1) * 8);
  auto rframes = wire(cannery::serialize_object(reversed));
  REQUIRE(rframes.size() == 2);
  auto rv = cannery::deserialize_object<std::vector<double>>(rframes).value;
  REQUIRE(rv.size() == line.size());
  for (std::size_t i = 0; i < line.size(); ++i)
    CHECK(rv[i] == line[line.size() - 1 - i]);
}

TEST_CASE("an uncanned NDArray views the received frame", "[canning][arrays]") {
  std::vector<double> values(2000, 0.0);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<double>(i) - 7.0;
  auto frames = wire(cannery::serialize_object(
      cannery::NDArray(cannery::dtype_of<double>(), {40, 50},
                       cannery::Buffer::borrow(values.data(), values.size() * 8))));
  REQUIRE(frames.size() == 2);
  auto array = cannery::deserialize_object<cannery::NDArray>(frames).value;
  CHECK(array.shape() == cannery::NDArray::Shape{40, 50});
  CHECK(array.is_c_contiguous());
  CHECK(array.first_byte() == frames[1].data());
  CHECK(array.data().owner() == frames[1].owner());
  auto span = array.span<double>();
  CHECK(span.data() == array.data_as<double>());
  CHECK(std::equal(span.begin(), span.end(), values.begin()));
  // Reading it with the wrong element type is refused.
  auto e = capture_error([&] { (void)array.data_as<float>(); });
  CHECK(e.code() == cannery::errc::type_mismatch);
}

TEST_CASE("canning an lvalue vector borrows its memory", "[canning][arrays]") {
  std::vector<double> values(4096, 2.5);
  auto canned = cannery::can(values);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(addr(canned.buffers[0].data()) == addr(values.data()));
  CHECK(canned.buffers[0].size() == values.size() * sizeof(double));
  CHECK(canned.buffers[0].is_borrowed());
  // What the frame shows is the vector itself.
  values[10] = -1.0;
  auto back = cannery::deserialize_object<std::vector<double>>(canned.frames()).value;
  CHECK(back[10] == -1.0);
}

TEST_CASE("canning an rvalue vector takes ownership without copying", "[canning][arrays]") {
  std::vector<std::int64_t> values(4096);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<std::int64_t>(i) * -3;
  const auto expected = values;
  const void* before = values.data();
  auto canned = cannery::can(std::move(values));
  REQUIRE(canned.buffers.size() == 1);
  CHECK(addr(canned.buffers[0].data()) == before);
  CHECK_FALSE(canned.buffers[0].is_borrowed());
  // The frame keeps the memory alive on its own.
  auto frames = canned.frames();
  canned = {};
  CHECK(cannery::deserialize_object<std::vector<std::int64_t>>(frames).value == expected);
}

TEST_CASE("contiguous_payload writes what ndarray_payload writes, and refuses partial items",
          "[canning][arrays]") {
  const std::vector<double> values{1.5, -2.0, 4.25};
  auto bytes = cannery::Buffer::borrow(values.data(), values.size() * sizeof(double));
  cannery::Writer direct;
  direct.tagged(cannery::format::tag_ndarray);
  direct.contiguous_payload(cannery::dtype_of<double>(), bytes);
  cannery::Writer through_ndarray;
  through_ndarray.tagged(cannery::format::tag_ndarray);
  through_ndarray.ndarray_payload(cannery::NDArray::view(std::span<const double>(values)));
  CHECK(std::move(direct).finish().header.as_string_view() ==
        std::move(through_ndarray).finish().header.as_string_view());

  cannery::Writer partial;
  CHECK(capture_error([&] {
          partial.contiguous_payload(cannery::dtype_of<double>(), bytes.slice(0, 20));
        }).code() == cannery::errc::invalid_argument);
}

TEST_CASE("character element types have the dtypes of their signedness and size",
          "[canning][arrays]") {
  const std::string le = std::endian::native == std::endian::little ? "<" : ">";
  auto dtype = [](auto element) {
    using T = decltype(element);
    auto frames = cannery::serialize_object(std::vector<T>(2));
    return cannery::deserialize_object<cannery::NDArray>(frames).value.dtype().str();
  };
  CHECK(dtype(static_cast<signed char>(0)) == "|i1");
  CHECK(dtype(static_cast<unsigned char>(0)) == "|u1");
  CHECK(dtype(char8_t{}) == "|u1");
  CHECK(dtype(char16_t{}) == le + "u2");
  CHECK(dtype(char32_t{}) == le + "u4");
  CHECK(dtype(char{}) == (std::is_signed_v<char> ? "|i1" : "|u1"));
  CHECK(dtype(wchar_t{}) == (sizeof(wchar_t) == 1 ? "|" : le) +
                                (std::is_signed_v<wchar_t> ? "i" : "u") +
                                std::to_string(sizeof(wchar_t)));
}

TEST_CASE("typed receivers convert neither dtype nor byte order, NDArray takes both",
          "[canning][arrays]") {
  const std::vector<double> values{1.0, 2.0, 3.0};
  const cannery::DType foreign{std::endian::native == std::endian::little ? '>' : '<', 'f', 8};
  const cannery::NDArray swapped(foreign, {3},
                                 cannery::Buffer::borrow(values.data(), 3 * sizeof(double)));
  auto frames = wire(cannery::serialize_object(swapped));
  CHECK(capture_error([&] {
          (void)cannery::deserialize_object<std::vector<double>>(frames);
        }).code() == cannery::errc::type_mismatch);
  CHECK(capture_error([&] {
          (void)cannery::deserialize_object<std::span<const double>>(frames);
        }).code() == cannery::errc::type_mismatch);
  CHECK(cannery::deserialize_object<cannery::NDArray>(frames).value.dtype().str() == foreign.str());
  // '=' is read as this machine's order.
  CHECK(cannery::DType::parse("=f8") == cannery::dtype_of<double>());
  auto ints = cannery::serialize_object(std::vector<std::int64_t>{1, 2});
  CHECK(capture_error([&] {
          (void)cannery::deserialize_object<std::vector<double>>(ints);
        }).code() == cannery::errc::type_mismatch);
}

TEST_CASE("a std::vector of numbers reads an ndarray node, not a list of numbers",
          "[canning][arrays]") {
  cannery::Writer w;
  w.tagged(cannery::format::tag_list);
  w.array(2);
  w.floating(1.0);
  w.floating(2.0);
  auto result = std::move(w).finish();
  const std::vector<cannery::Buffer> frames{result.header};
  auto e = capture_error([&] { (void)cannery::deserialize_object<std::vector<double>>(frames); });
  CHECK(e.code() == cannery::errc::type_mismatch);
  CHECK_THAT(e.message(), Catch::Contains("'ndarray'") && Catch::Contains("'list'"));
  CHECK(capture_error([&] {
          (void)cannery::deserialize_object<std::array<double, 2>>(frames);
        }).code() == cannery::errc::type_mismatch);
  // The dynamic reader takes it as what it is: a list.
  CHECK(cannery::deserialize_object(frames).value.to_list().size() == 2);
}

TEST_CASE("a strided NDArray sends the bytes between its elements, contiguous() does not",
          "[canning][arrays]") {
  std::vector<double> base(200);
  for (std::size_t i = 0; i < base.size(); ++i)
    base[i] = i % 2 == 0 ? static_cast<double>(i) : -1.0;  // -1: not addressed
  const cannery::NDArray even(cannery::dtype_of<double>(), {100}, {16},
                              cannery::Buffer::borrow(base.data(), base.size() * sizeof(double)));
  cannery::SerializeOptions oob;
  oob.buffer_threshold = 0;
  auto canned = cannery::can(even, oob);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(canned.buffers[0].size() == 199 * sizeof(double));
  double gap = 0;
  std::memcpy(&gap, canned.buffers[0].data() + sizeof(double), sizeof gap);
  CHECK(gap == -1.0);  // a byte the array does not address left the process

  auto packed = cannery::can(even.contiguous(), oob);
  REQUIRE(packed.buffers.size() == 1);
  CHECK(packed.buffers[0].size() == 100 * sizeof(double));
  CHECK(cannery::deserialize_object<std::vector<double>>(wire(packed.frames())).value ==
        cannery::deserialize_object<std::vector<double>>(wire(canned.frames())).value);
}
