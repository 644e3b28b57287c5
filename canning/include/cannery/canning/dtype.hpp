#pragma once
// NumPy-compatible element types: "<f8", "|u1", "<c16", "|V12", ...
// (byte order, kind, item size), so any numpy can read what we send.

#include <bit>
#include <complex>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace cannery {

struct DType {
  char order = '|';  // '<' little endian, '>' big endian, '|' not applicable
  char kind = 'u';   // 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex, 'V' raw bytes
  std::size_t itemsize = 1;

  // Parses a dtype string; throws cannery::error(type_mismatch) naming the
  // string when it is not one this library knows how to hold.
  static DType parse(std::string_view text);
  std::string str() const;

  // True when the bytes can be read in place as this machine's values.
  bool is_native_order() const noexcept;

  // Equal kind and size, and byte orders that read the same here.
  friend bool operator==(const DType& a, const DType& b) noexcept;
};

namespace detail {
template <class T>
struct is_complex : std::false_type {};
template <class T>
struct is_complex<std::complex<T>> : std::is_floating_point<T> {};

// Integers that msgpack's 64 bits hold. In GNU mode __int128 is an integral
// type too; it would be truncated on the way (and numpy has no '<i16'), so
// it has no canner and cannot be an array element.
template <class T>
concept wire_integer = std::integral<T> && !std::same_as<T, bool> && sizeof(T) <= 8;

// Floats that msgpack (float 32, float 64) and numpy ('<f4', '<f8') read as
// they are, everywhere. Not long double or __float128: msgpack has no wider
// float, and numpy's '<f16' is whatever long double is where it runs (x87
// 80-bit on x86-64, IEEE binary128 on Linux arm64, absent where long double
// is double), so no reader could rely on it.
template <class T>
concept wire_float = std::same_as<T, float> || std::same_as<T, double>;

}  // namespace detail

// Element types that travel as one buffer with no per-element work.
template <class T>
concept array_element = std::same_as<T, bool> || detail::wire_integer<T> || detail::wire_float<T> ||
    std::same_as<T, std::complex<float>> || std::same_as<T, std::complex<double>>;

template <array_element T>
constexpr DType dtype_of() noexcept {
  constexpr char order =
      sizeof(T) == 1 ? '|' : (std::endian::native == std::endian::little ? '<' : '>');
  if constexpr (std::is_same_v<T, bool>) {
    return {'|', 'b', 1};
  } else if constexpr (detail::is_complex<T>::value) {
    return {order, 'c', sizeof(T)};
  } else if constexpr (std::is_floating_point_v<T>) {
    return {order, 'f', sizeof(T)};
  } else if constexpr (std::is_signed_v<T>) {
    return {order, 'i', sizeof(T)};
  } else {
    return {order, 'u', sizeof(T)};
  }
}

// The dtype of raw-bytes structs: NumPy's void type of the same size.
inline DType raw_dtype(std::size_t size) noexcept {
  return {'|', 'V', size};
}

}  // namespace cannery
