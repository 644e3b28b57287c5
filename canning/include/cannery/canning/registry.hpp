#pragma once
// The run-time registry: tag -> how to uncan (and re-can) a type. Only needed
// by receivers that read dynamic Objects; typed uncan<T> never consults it.
//
//   cannery::register_type<Particle>();   // once, before deserializing

#include <any>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeindex>
#include <typeinfo>

#include "cannery/canning/canner.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {
namespace detail {

struct TypeEntry {
  std::string tag;
  std::type_index type;
  std::any (*uncan)(const Node& payload);
  void (*can)(Writer& w, const std::any& value);
};

// Throws duplicate_tag when the tag is built in or belongs to another type;
// registering the same type again is harmless. Returns the stored entry.
const TypeEntry& add_type_entry(TypeEntry entry);
// Null when nothing is registered under `tag`.
const TypeEntry* find_type_entry(std::string_view tag);

}  // namespace detail

template <class T>
const detail::TypeEntry& register_type() {
  static_assert(detail::tagged_canner<T>,
                "cannery::register_type<T>: canner<T> needs a tag so receivers can recognise "
                "it: add 'static constexpr std::string_view tag = \"yourlib.YourType\";'");
  static_assert(cannable<T> && uncannable<T>,
                "cannery::register_type<T>: canner<T> needs both can() and uncan()");
  return detail::add_type_entry(detail::TypeEntry{
      std::string(canner<T>::tag), std::type_index(typeid(T)),
      [](const Node& payload) -> std::any {
        payload.charge(1, sizeof(T), "values of a registered type held in a cannery::Object");
        if constexpr (!std::is_nothrow_move_constructible_v<T> &&
                      std::is_default_constructible_v<T> && requires(T & a) { a.swap(a); }) {
          // A type without a real move constructor (Eigen::SparseMatrix)
          // would be copied into the any, twice its memory for a moment:
          // it is swapped in instead.
          T value = canner<T>::uncan(payload);
          std::any held(std::in_place_type<T>);
          std::any_cast<T&>(held).swap(value);
          return held;
        } else {
          return std::any(canner<T>::uncan(payload));
        }
      },
      [](Writer& w, const std::any& value) { canner<T>::can(w, std::any_cast<const T&>(value)); }});
}

}  // namespace cannery
