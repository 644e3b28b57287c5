#pragma once
// The one customization point: cannery::canner<T>.
//
// A canner says how one C++ type becomes a node of the header (plus buffer
// frames) and back. Specialize it for your own type:
//
//   template <> struct cannery::canner<Celsius> {
//     static constexpr std::string_view tag = "demo.celsius";  // optional
//     static void can(cannery::Writer& w, const Celsius& c) { w.write(c.degrees); }
//     static Celsius uncan(const cannery::Node& n) { return {n.as<double>()}; }
//   };
//
// With a `tag`, the node is wrapped as [tag, payload] so that receivers that
// do not know the static type can find the uncanner in the registry
// (cannery::register_type<T>()). Optionally `can(Writer&, T&&)` takes
// ownership of an rvalue's memory instead of borrowing it.
//
// For plain structs, CANNERY_FIELDS (fields.hpp) writes the canner for you;
// for trivially copyable ones, CANNERY_RAW_BYTES (raw_bytes.hpp).

#include <string_view>
#include <type_traits>

namespace cannery {

class Writer;
class Node;

// Primary template: empty on purpose, so that `cannable<T>` is false for
// types nobody taught cannery about.
template <class T>
struct canner {};

template <class T>
concept cannable = requires(Writer& w, const T& value) {
  canner<T>::can(w, value);
};

template <class T>
concept uncannable = requires(const Node& node) {
  { canner<T>::uncan(node) } -> std::convertible_to<T>;
};

namespace detail {

template <class T>
concept tagged_canner = requires {
  { canner<T>::tag } -> std::convertible_to<std::string_view>;
};

template <class T>
concept owning_canner = requires(Writer& w, T&& value) {
  canner<T>::can(w, std::move(value));
};

}  // namespace detail
}  // namespace cannery

// The text of the compile error for a type with no canner. `role` says where
// the type appeared (the value given to can(), an element of a vector, ...).
#define CANNERY_DETAIL_NOT_CANNABLE(role)                                           \
  "cannery: the " role                                                              \
  " has no canner (see the 'required from' lines for the type T). "                 \
  "Teach cannery about T in one of three ways: "                                    \
  "(1) for a plain struct, write CANNERY_FIELDS(T, field1, field2, ...) after it; " \
  "(2) for a trivially copyable struct sent as raw bytes, write "                   \
  "CANNERY_RAW_BYTES(T, member1, member2, ...); "                                   \
  "(3) otherwise specialize: template <> struct cannery::canner<T> { "              \
  "static void can(cannery::Writer& w, const T& value); "                           \
  "static T uncan(const cannery::Node& node); };"

#define CANNERY_DETAIL_NOT_UNCANNABLE(role)                                             \
  "cannery: the " role                                                                  \
  " cannot be uncanned: cannery::canner<T> has no "                                     \
  "'static T uncan(const cannery::Node& node)' (see the 'required from' lines for T). " \
  "Add one to the canner, or use CANNERY_FIELDS(T, ...) for a plain struct."
