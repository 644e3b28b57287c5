#pragma once
// Canners for things that travel as one buffer: bytes (cannery::Buffer,
// std::vector<std::byte>) and arrays (NDArray, std::vector / std::array /
// std::span of numbers). An lvalue is borrowed, an rvalue is taken over; in
// both cases the bytes themselves are not copied unless they are inlined.

#include <array>
#include <cstring>
#include <span>
#include <vector>

#include "cannery/canning/format.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

namespace detail {

// Copies the elements of `array` in C order into `out` (which holds
// array.size() elements), whatever its strides and alignment.
template <class T>
void copy_elements(const NDArray& array, T* out) {
  array.require_element(dtype_of<T>(), 1);
  array.copy_to(reinterpret_cast<std::byte*>(out));
}

template <class T>
Buffer borrowed_elements(std::span<const T> values) {
  return Buffer::borrow(values.data(), values.size_bytes());
}

inline const NDArray& require_1d(const NDArray& array, const Node& n) {
  if (array.ndim() != 1) {
    n.fail(errc::shape_mismatch, "expected a 1-D array, got " + array.describe());
  }
  return array;
}

}  // namespace detail

template <>
struct canner<Buffer> {
  static void can(Writer& w, const Buffer& value) { w.bytes(value); }
  static Buffer uncan(const Node& n) { return n.to_bytes(); }
};

template <>
struct canner<std::vector<std::byte>> {
  static void can(Writer& w, const std::vector<std::byte>& value) {
    w.bytes(Buffer::borrow(value.data(), value.size()));
  }
  static void can(Writer& w, std::vector<std::byte>&& value) {
    w.bytes(Buffer::take(std::move(value)));
  }
  static std::vector<std::byte> uncan(const Node& n) {
    Buffer b = n.to_bytes();
    return {b.data(), b.data() + b.size()};
  }
};

template <>
struct canner<NDArray> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, const NDArray& value) { w.ndarray_payload(value); }
  static NDArray uncan(const Node& n) { return n.to_ndarray(); }
};

template <array_element T>
struct canner<std::vector<T>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, const std::vector<T>& value) {
    w.contiguous_payload(dtype_of<T>(), detail::borrowed_elements(std::span<const T>(value)));
  }
  static void can(Writer& w, std::vector<T>&& value) {
    w.contiguous_payload(dtype_of<T>(), Buffer::take(std::move(value)));
  }
  static std::vector<T> uncan(const Node& n) {
    NDArray array = n.to_ndarray();
    detail::require_1d(array, n);
    std::vector<T> out(array.size());
    detail::copy_elements(array, out.data());
    return out;
  }
};

// std::vector<bool> packs bits, so it is the one vector that is gathered.
template <>
struct canner<std::vector<bool>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, const std::vector<bool>& value) {
    w.ndarray_payload_filled(dtype_of<bool>(), {value.size()}, {1}, value.size(),
                             [&](std::byte* out) {
                               for (bool b : value)
                                 *out++ = std::byte{b};
                             });
  }
  static std::vector<bool> uncan(const Node& n) {
    NDArray array = n.to_ndarray();
    detail::require_1d(array, n);
    array.require_element(dtype_of<bool>(), 1);
    std::vector<bool> out;
    out.reserve(array.size());
    const std::byte* p = array.first_byte();
    for (std::size_t i = 0; i < array.size(); ++i) {
      out.push_back(p[static_cast<std::ptrdiff_t>(i) * array.strides()[0]] != std::byte{0});
    }
    return out;
  }
};

template <array_element T, std::size_t N>
struct canner<std::array<T, N>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, const std::array<T, N>& value) {
    w.contiguous_payload(dtype_of<T>(), detail::borrowed_elements(std::span<const T>(value)));
  }
  static std::array<T, N> uncan(const Node& n) {
    NDArray array = n.to_ndarray();
    detail::require_1d(array, n);
    if (array.size() != N) {
      n.fail(errc::shape_mismatch,
             "expected " + std::to_string(N) + " elements, got " + array.describe());
    }
    std::array<T, N> out;
    detail::copy_elements(array, out.data());
    return out;
  }
};

// A span is canned borrowed and uncanned as a zero-copy view of the received
// frame (valid while the frames are); it needs a contiguous, aligned array.
template <array_element T>
struct canner<std::span<const T>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, std::span<const T> value) {
    w.contiguous_payload(dtype_of<T>(), detail::borrowed_elements(value));
  }
  static std::span<const T> uncan(const Node& n) {
    NDArray array = n.to_ndarray();
    detail::require_1d(array, n);
    return array.span<T>();
  }
};

template <array_element T>
struct canner<std::span<T>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, std::span<T> value) {
    canner<std::span<const T>>::can(w, std::span<const T>(value));
  }
};

}  // namespace cannery
