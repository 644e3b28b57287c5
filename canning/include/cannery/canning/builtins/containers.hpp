#pragma once
// Canners for containers of other cannable values: lists (std::vector of
// non-numbers), dicts (string-keyed maps), pairs and tuples (as lists), and
// std::optional (null or the value). Nested buffers are pulled out of band at
// any depth because every element goes through the same Writer.

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

namespace detail {

template <class Map>
void can_dict(Writer& w, const Map& map) {
  w.dict(map.size());
  for (const auto& [key, value] : map) {
    w.key(key);
    w.write(value);
  }
}

template <class Map>
Map uncan_dict(const Node& n) {
  Map out;
  n.for_each_entry([&](std::string_view key, const Node& value) {
    if (!out.emplace(std::string(key), value.as<typename Map::mapped_type>()).second) {
      n.fail(errc::duplicate_key, "dict names key '" + std::string(key) + "' twice");
    }
  });
  return out;
}

template <class Tuple, std::size_t... I>
Tuple uncan_tuple(const Node& n, std::index_sequence<I...>) {
  n.expect_size(sizeof...(I));
  return Tuple{n[I].template as<std::tuple_element_t<I, Tuple>>()...};
}

}  // namespace detail

template <class T>
struct canner<std::vector<T>> {
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("element type of a std::vector"));
  static constexpr std::string_view tag = format::tag_list;
  static void can(Writer& w, const std::vector<T>& value) {
    w.array(value.size());
    for (const auto& item : value) w.write(item);
  }
  static void can(Writer& w, std::vector<T>&& value) {
    w.array(value.size());
    for (auto& item : value) w.write(std::move(item));
  }
  static std::vector<T> uncan(const Node& n) {
    std::vector<T> out;
    const std::size_t size = n.size();
    out.reserve(size);  // bounded: each item took at least one received byte
    for (std::size_t i = 0; i < size; ++i) out.push_back(n[i].template as<T>());
    return out;
  }
};

template <class T, class Compare, class Alloc>
struct canner<std::map<std::string, T, Compare, Alloc>> {
  using Map = std::map<std::string, T, Compare, Alloc>;
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("mapped type of a std::map"));
  static void can(Writer& w, const Map& value) { detail::can_dict(w, value); }
  static Map uncan(const Node& n) { return detail::uncan_dict<Map>(n); }
};

template <class T, class Hash, class Eq, class Alloc>
struct canner<std::unordered_map<std::string, T, Hash, Eq, Alloc>> {
  using Map = std::unordered_map<std::string, T, Hash, Eq, Alloc>;
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("mapped type of a std::unordered_map"));
  static void can(Writer& w, const Map& value) { detail::can_dict(w, value); }
  static Map uncan(const Node& n) { return detail::uncan_dict<Map>(n); }
};

template <class... T>
struct canner<std::tuple<T...>> {
  static_assert((cannable<T> && ...), CANNERY_DETAIL_NOT_CANNABLE("member type of a std::tuple"));
  static constexpr std::string_view tag = format::tag_list;
  static void can(Writer& w, const std::tuple<T...>& value) {
    w.array(sizeof...(T));
    std::apply([&](const auto&... item) { (w.write(item), ...); }, value);
  }
  static std::tuple<T...> uncan(const Node& n) {
    return detail::uncan_tuple<std::tuple<T...>>(n, std::index_sequence_for<T...>{});
  }
};

template <class A, class B>
struct canner<std::pair<A, B>> {
  static_assert(cannable<A> && cannable<B>, CANNERY_DETAIL_NOT_CANNABLE("member type of a std::pair"));
  static constexpr std::string_view tag = format::tag_list;
  static void can(Writer& w, const std::pair<A, B>& value) {
    w.array(2);
    w.write(value.first);
    w.write(value.second);
  }
  static std::pair<A, B> uncan(const Node& n) {
    return detail::uncan_tuple<std::pair<A, B>>(n, std::index_sequence<0, 1>{});
  }
};

// Null when empty. (An optional holding an empty optional reads back empty.)
template <class T>
struct canner<std::optional<T>> {
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("value type of a std::optional"));
  static void can(Writer& w, const std::optional<T>& value) {
    if (value) {
      w.write(*value);
    } else {
      w.nil();
    }
  }
  static std::optional<T> uncan(const Node& n) {
    if (n.is_null()) return std::nullopt;
    return n.as<T>();
  }
};

}  // namespace cannery
