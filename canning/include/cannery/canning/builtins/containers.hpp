#pragma once
// Canners for containers of other cannable values: lists (std::vector of
// non-numbers), dicts (string-keyed maps), pairs and tuples (as lists), and
// std::optional (null or the value). Nested buffers are pulled out of band at
// any depth because every element goes through the same Writer.

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

namespace detail {

// An rvalue container hands its elements over (moved into the frames'
// owners); an lvalue one lends them. Either way no array bytes are copied.
template <class Container, class Element>
decltype(auto) forward_element(Element& element) {
  if constexpr (std::is_lvalue_reference_v<Container>) {
    return static_cast<const Element&>(element);
  } else {
    return std::move(element);
  }
}

template <class Map>
void can_dict(Writer& w, Map&& map) {
  w.dict(map.size());
  for (auto& [key, value] : map) {
    w.key(key);
    w.write(forward_element<Map>(value));
  }
}

template <class Map>
Map uncan_dict(const Node& n) {
  n.charge(n.dict_size(), sizeof(typename Map::value_type) + node_overhead,
           "entries of a dict read as a std::map");
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
  template <class V>
  static void can(Writer& w, V&& value) {
    w.array(value.size());
    for (auto& item : value)
      w.write(detail::forward_element<V>(item));
  }
  static std::vector<T> uncan(const Node& n) {
    std::vector<T> out;
    const std::size_t size = n.size();
    // Each item took at least one received byte, but becomes a whole T.
    n.charge(size, sizeof(T), "items of a list read as a std::vector");
    out.reserve(size);
    for (std::size_t i = 0; i < size; ++i)
      out.push_back(n[i].template as<T>());
    return out;
  }
};

template <class T, class Compare, class Alloc>
struct canner<std::map<std::string, T, Compare, Alloc>> {
  using Map = std::map<std::string, T, Compare, Alloc>;
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("mapped type of a std::map"));
  template <class M>
  static void can(Writer& w, M&& value) {
    detail::can_dict(w, std::forward<M>(value));
  }
  static Map uncan(const Node& n) { return detail::uncan_dict<Map>(n); }
};

template <class T, class Hash, class Eq, class Alloc>
struct canner<std::unordered_map<std::string, T, Hash, Eq, Alloc>> {
  using Map = std::unordered_map<std::string, T, Hash, Eq, Alloc>;
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("mapped type of a std::unordered_map"));
  template <class M>
  static void can(Writer& w, M&& value) {
    detail::can_dict(w, std::forward<M>(value));
  }
  static Map uncan(const Node& n) { return detail::uncan_dict<Map>(n); }
};

template <class... T>
struct canner<std::tuple<T...>> {
  static_assert((cannable<T> && ...), CANNERY_DETAIL_NOT_CANNABLE("member type of a std::tuple"));
  static constexpr std::string_view tag = format::tag_list;
  template <class Tuple>
  static void can(Writer& w, Tuple&& value) {
    w.array(sizeof...(T));
    std::apply([&](auto&... item) { (w.write(detail::forward_element<Tuple>(item)), ...); }, value);
  }
  static std::tuple<T...> uncan(const Node& n) {
    return detail::uncan_tuple<std::tuple<T...>>(n, std::index_sequence_for<T...>{});
  }
};

template <class A, class B>
struct canner<std::pair<A, B>> {
  static_assert(cannable<A> && cannable<B>,
                CANNERY_DETAIL_NOT_CANNABLE("member type of a std::pair"));
  static constexpr std::string_view tag = format::tag_list;
  template <class Pair>
  static void can(Writer& w, Pair&& value) {
    w.array(2);
    w.write(detail::forward_element<Pair>(value.first));
    w.write(detail::forward_element<Pair>(value.second));
  }
  static std::pair<A, B> uncan(const Node& n) {
    return detail::uncan_tuple<std::pair<A, B>>(n, std::index_sequence<0, 1>{});
  }
};

// Null when empty. (An optional holding an empty optional reads back empty.)
template <class T>
struct canner<std::optional<T>> {
  static_assert(cannable<T>, CANNERY_DETAIL_NOT_CANNABLE("value type of a std::optional"));
  template <class Optional>
  static void can(Writer& w, Optional&& value) {
    if (value) {
      w.write(detail::forward_element<Optional>(*value));
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
