#pragma once
// CANNERY_RAW_BYTES: opt a trivially copyable struct in to travel as its raw
// bytes (the C++ form of choosing another pickler for one type). A single
// value becomes ["Type", bytes]; a std::vector of them becomes one ndarray of
// numpy's void dtype "|V<sizeof>" with no per-element work.
//
//   struct Hit { float x, y; std::uint32_t detector; };
//   CANNERY_RAW_BYTES(Hit, x, y, detector)
//
// The bytes are this machine's layout: both sides need the same struct
// definition, compiler ABI and byte order.
//
// Every byte sent must belong to a member: padding bytes hold whatever the
// memory held before (other data of this process), and would leave it with
// the message. So the struct must be proven to have none, at compile time:
//
// - CANNERY_RAW_BYTES(T) alone needs std::has_unique_object_representations
//   (integers, bools, enums, arrays and structs of them, without padding).
//   That trait is also false for any float or double member, padding or not
//   (+0 and -0 are equal values with different bytes), so for those:
// - CANNERY_RAW_BYTES(T, member, ...) lists every member. It is checked that
//   T is standard-layout, that each member's type has no padding of its own
//   (integers, float, double, their complex numbers, arrays of these, and
//   structs declared with CANNERY_RAW_BYTES; not long double, whose x87
//   format leaves 6 of its 16 bytes unused), and that the members, at
//   distinct offsets, add up to sizeof(T): then no byte is left between or
//   after them. A forgotten member, or padding, fails that sum.
// To send a struct that has padding, make the padding explicit members
// (std::uint8_t pad[3]; zero them) and list them, or use CANNERY_FIELDS.
//
// The tag is the type's name as written, as for CANNERY_FIELDS; give one
// yourself with CANNERY_RAW_BYTES_TAGGED(Hit, "detector.Hit", x, y, detector).

#include <complex>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "cannery/canning/builtins/arrays.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/detail/for_each.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery::detail {

template <class T>
concept raw_bytes = requires(const T* p) {
  { cannery_raw_bytes(p) } -> std::convertible_to<std::string_view>;
};

// Whether every byte of a T belongs to its value. Floats qualify (IEEE
// binary32 and binary64 use all their bits); a struct declared with
// CANNERY_RAW_BYTES was proven so where it was declared.
template <class T>
constexpr bool padding_free() {
  if constexpr (std::is_array_v<T>) {
    return padding_free<std::remove_all_extents_t<T>>();
  } else {
    return std::has_unique_object_representations_v<T> || std::is_same_v<T, float> ||
           std::is_same_v<T, double> || std::is_same_v<T, std::complex<float>> ||
           std::is_same_v<T, std::complex<double>> || raw_bytes<T>;
  }
}

struct RawMember {
  std::size_t offset;
  std::size_t size;
};

// Members at distinct offsets never overlap, so when their sizes add up to
// sizeof(T) they leave no byte of T uncovered.
template <class T>
constexpr bool covers_every_byte(std::initializer_list<RawMember> members) {
  std::size_t total = 0;
  for (const RawMember* a = members.begin(); a != members.end(); ++a) {
    for (const RawMember* b = members.begin(); b != a; ++b) {
      if (a->offset == b->offset) return false;
    }
    total += a->size;
  }
  return total == sizeof(T);
}

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

#define CANNERY_DETAIL_RAW_MEMBER_TYPE(Type, member)                                           \
  static_assert(::cannery::detail::padding_free<decltype(Type::member)>(),                     \
                "CANNERY_RAW_BYTES(" #Type ", ...): the type of member '" #member              \
                "' may hold padding bytes (long double, or a struct not itself declared with " \
                "CANNERY_RAW_BYTES), which would send whatever memory they hold; use "         \
                "CANNERY_FIELDS for this struct");
#define CANNERY_DETAIL_RAW_MEMBER_LAYOUT(Type, member) \
  ::cannery::detail::RawMember{offsetof(Type, member), sizeof(Type::member)},

#define CANNERY_RAW_BYTES(Type, ...) \
  CANNERY_RAW_BYTES_TAGGED(Type, #Type __VA_OPT__(, ) __VA_ARGS__)

#define CANNERY_RAW_BYTES_TAGGED(Type, tag, ...)                                                 \
  static_assert(std::is_trivially_copyable_v<Type>,                                              \
                "CANNERY_RAW_BYTES(" #Type                                                       \
                "): only trivially copyable types can travel as "                                \
                "raw bytes; use CANNERY_FIELDS for this one");                                   \
  static_assert(__VA_OPT__(true ||) std::has_unique_object_representations_v<Type>,              \
                "CANNERY_RAW_BYTES(" #Type                                                       \
                "): the type may hold padding bytes, which would send whatever memory they "     \
                "hold. If it has floating-point members (they alone fail this check), list "     \
                "every member, CANNERY_RAW_BYTES(" #Type                                         \
                ", member1, member2, ...), so that cannery can prove there is no padding; if "   \
                "it has padding, make it explicit members (std::uint8_t pad[3]) and list them, " \
                "or use CANNERY_FIELDS");                                                        \
  __VA_OPT__(                                                                                    \
      static_assert(std::is_standard_layout_v<Type>,                                             \
                    "CANNERY_RAW_BYTES(" #Type                                                   \
                    ", members...): the members' offsets can only be checked in a "              \
                    "standard-layout type; use CANNERY_FIELDS for this one");                    \
      CANNERY_DETAIL_FOR_EACH(CANNERY_DETAIL_RAW_MEMBER_TYPE, Type, __VA_ARGS__) static_assert(  \
          ::cannery::detail::covers_every_byte<Type>(                                            \
              {CANNERY_DETAIL_FOR_EACH(CANNERY_DETAIL_RAW_MEMBER_LAYOUT, Type, __VA_ARGS__)}),   \
          "CANNERY_RAW_BYTES(" #Type ", " #__VA_ARGS__                                           \
          "): the members listed do not cover every byte of the type: it has "                   \
          "padding (make it explicit members, std::uint8_t pad[3], and list them), "             \
          "or a member is missing from the list (or listed twice)");)                            \
  static_assert(                                                                                 \
      ::cannery::format::is_user_tag(tag),                                                       \
      "CANNERY_RAW_BYTES_TAGGED(" #Type                                                          \
      ", tag, ...): the tag is empty, not UTF-8 or built in (list, complex, ndarray, bytes); "   \
      "choose a dotted name such as \"mylib.Type\"");                                            \
  [[maybe_unused]] constexpr std::string_view cannery_raw_bytes(const Type*) {                   \
    return tag;                                                                                  \
  }
