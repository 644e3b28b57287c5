#pragma once
// CANNERY_RAW_BYTES: opt a trivially copyable struct in to travel as its raw
// bytes (the C++ form of choosing another pickler for one type). A single
// value becomes ["Type", bytes]; a std::vector of them becomes one ndarray of
// numpy's void dtype "|V<sizeof>" with no per-element work.
//
//   struct Hit { float x, y; std::uint32_t detector; };
//   CANNERY_RAW_BYTES(Hit)
//
// The bytes are this machine's layout: both sides need the same struct
// definition, compiler ABI and byte order.

#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cannery/canning/builtins/arrays.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery::detail {

template <class T>
concept raw_bytes = requires(const T* p) {
  { cannery_raw_bytes(p) } -> std::convertible_to<std::string_view>;
};

}  // namespace cannery::detail

namespace cannery {

template <detail::raw_bytes T>
struct canner<T> {
  static constexpr std::string_view tag = cannery_raw_bytes(static_cast<const T*>(nullptr));
  static void can(Writer& w, const T& value) { w.bytes(Buffer::borrow(&value, sizeof(T))); }
  // A temporary cannot be lent: its bytes are copied (inlined when small).
  static void can(Writer& w, T&& value) { w.bytes(Buffer::copy_of(&value, sizeof(T))); }
  static T uncan(const Node& n) {
    Buffer bytes = n.to_bytes();
    if (bytes.size() != sizeof(T)) {
      n.fail(errc::shape_mismatch, "'" + std::string(tag) + "' needs " + std::to_string(sizeof(T)) +
                                       " bytes, got " + std::to_string(bytes.size()));
    }
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
};

template <detail::raw_bytes T>
struct canner<std::vector<T>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static NDArray as_array(Buffer bytes, std::size_t count) {
    return NDArray(raw_dtype(sizeof(T)), {count}, std::move(bytes));
  }
  static void can(Writer& w, const std::vector<T>& value) {
    w.ndarray_payload(
        as_array(Buffer::borrow(value.data(), value.size() * sizeof(T)), value.size()));
  }
  static void can(Writer& w, std::vector<T>&& value) {
    const std::size_t count = value.size();
    w.ndarray_payload(as_array(Buffer::take(std::move(value)), count));
  }
  static std::vector<T> uncan(const Node& n) {
    NDArray array = n.to_ndarray();
    detail::require_1d(array, n);
    if (!(array.dtype() == raw_dtype(sizeof(T)))) {
      n.fail(errc::type_mismatch, "expected an array of '" + std::string(canner<T>::tag) + "' (" +
                                      raw_dtype(sizeof(T)).str() + "), got " + array.describe());
    }
    std::vector<T> out(array.size());
    array.copy_to(reinterpret_cast<std::byte*>(out.data()));
    return out;
  }
};

}  // namespace cannery

#define CANNERY_RAW_BYTES(Type)                                                \
  static_assert(std::is_trivially_copyable_v<Type>,                            \
                "CANNERY_RAW_BYTES(" #Type                                     \
                "): only trivially copyable types can travel as "              \
                "raw bytes; use CANNERY_FIELDS for this one");                 \
  [[maybe_unused]] constexpr std::string_view cannery_raw_bytes(const Type*) { \
    return #Type;                                                              \
  }
