#pragma once
// How a registered function's parameters are read from a call.
//
// apply: each parameter reads one positional argument, in order. View types
// (Eigen::Ref<const M>, Eigen::Map<const M>, std::span<const T>, NDArray,
// std::string_view) point into the received frames; any other type is the
// owning value uncanned as std::decay_t of the parameter.
//
// map: each parameter reads one list (or, for numbers, one 1-D array) of
// `count` elements, and the function is called once per index. List items
// uncan as the parameter's type, so views stay views here too; an Eigen::Ref
// whose items cannot be viewed in place reads them into owning matrices.

#include <Eigen/Core>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cannery/canning/apply.hpp"
#include "cannery/canning/eigen.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/engine/object_cache.hpp"

namespace cannery::detail {

// Reads positional arguments in order. An argument ["cannery.ref", id] reads
// as the frames cached under id. Errors name the function and the position:
// "argument 1 of 'f': expected float, got str".
class ArgumentReader {
 public:
  ArgumentReader(ApplyMessage& call, const ObjectCache* cache) : call_(call), cache_(cache) {}

  // The frames of the next argument (a cached object's for a reference).
  std::span<const Buffer> next();
  // The tag of an argument's object ("ndarray", "list", "int", ...).
  std::string tag_of(std::span<const Buffer> frames) const;

  template <class T>
  T uncan(std::span<const Buffer> frames) const {
    try {
      return deserialize_object<T>(frames, call_.limits()).value;
    } catch (const error& e) {
      throw error(e.code(), where() + e.message());
    }
  }

  [[noreturn]] void fail(errc code, const std::string& what) const;
  const std::string& function() const noexcept { return call_.function(); }
  // All of the call's received frames (results may view them).
  std::span<const Buffer> call_frames() const noexcept { return call_.frames(); }

 private:
  std::string where() const;

  ApplyMessage& call_;
  const ObjectCache* cache_;
  std::size_t index_ = 0;                    // position of the argument next() returned last
  std::vector<ObjectCache::Frames> pinned_;  // cached frames in use by this call
};

// --- Parameter kinds ---------------------------------------------------------

template <class T>
struct eigen_const_ref : std::false_type {};
template <class Plain, int Options, class StrideType>
struct eigen_const_ref<Eigen::Ref<const Plain, Options, StrideType>> : std::true_type {
  using plain = Plain;
  // A Map the Ref binds to without a copy: same layout rules.
  using view = Eigen::Map<const Plain, Options, StrideType>;
};

template <class T>
struct eigen_mutable_ref : std::false_type {};
template <class Plain, int Options, class StrideType>
struct eigen_mutable_ref<Eigen::Ref<Plain, Options, StrideType>>
    : std::bool_constant<!std::is_const_v<Plain>> {};

// A parameter the function may modify (T&) gets an lvalue; others an rvalue.
template <class P>
inline constexpr bool wants_lvalue =
    std::is_lvalue_reference_v<P> && !std::is_const_v<std::remove_reference_t<P>>;

template <class P>
constexpr void check_parameter() {
  using D = std::remove_cvref_t<P>;
  static_assert(!std::is_pointer_v<D>,
                "cannery: a registered function cannot take a raw pointer: take "
                "std::span<const T>, Eigen::Map<const M> / Eigen::Ref<const M>, or a value");
  static_assert(
      !eigen_mutable_ref<D>::value,
      "cannery: a registered function cannot take a mutable Eigen::Ref<M>: received "
      "data is read-only. Take Eigen::Ref<const M> (a view) or M (a copy you may modify)");
  static_assert(eigen_const_ref<D>::value || uncannable<D>,
                CANNERY_DETAIL_NOT_UNCANNABLE("parameter type of a registered function"));
}

// --- apply: one argument per parameter ---------------------------------------

template <class P>
class ArgHolder {
  using D = std::remove_cvref_t<P>;

 public:
  explicit ArgHolder(ArgumentReader& r) : value_(r.uncan<D>(r.next())) {}
  decltype(auto) get() {
    if constexpr (wants_lvalue<P>) {
      return (value_);
    } else {
      return std::move(value_);
    }
  }

 private:
  D value_;
};

// Eigen::Ref<const M>: bound to the received frame in place when its layout
// allows (the usual case), else to an owning copy made once.
template <class P>
requires eigen_const_ref<std::remove_cvref_t<P>>::value class ArgHolder<P> {
  using Ref = std::remove_cvref_t<P>;
  using Traits = eigen_const_ref<Ref>;

 public:
  explicit ArgHolder(ArgumentReader& r) {
    std::span<const Buffer> frames = r.next();
    try {
      view_.emplace(r.uncan<typename Traits::view>(frames));
      return;
    } catch (const error& e) {
      // Other layouts, or data not aligned for a view: copy once. Any other
      // failure (not an array, wrong dtype) reports the same from here.
      if (e.code() != errc::shape_mismatch && e.code() != errc::misaligned) throw;
    }
    owned_.emplace(r.uncan<typename Traits::plain>(frames));
  }
  // A prvalue: bound by the caller without a copy of the Ref.
  Ref get() const { return view_ ? Ref(*view_) : Ref(*owned_); }

 private:
  std::optional<typename Traits::view> view_;
  std::optional<typename Traits::plain> owned_;
};

// --- map: one list of `count` elements per parameter ---------------------------

template <class E>
struct Element {
  E value;
};

// A "list" node read item by item as E (so numbers and views work too, which
// std::vector<E>'s own canner reads as an ndarray or not at all).
template <class E>
struct ListChunk {
  std::vector<Element<E>> items;
};

}  // namespace cannery::detail

template <class E>
struct cannery::canner<cannery::detail::ListChunk<E>> {
  static constexpr std::string_view tag = format::tag_list;
  static detail::ListChunk<E> uncan(const Node& n) {
    detail::ListChunk<E> chunk;
    const std::size_t size = n.size();
    chunk.items.reserve(size);  // bounded: each item took at least one received byte
    for (std::size_t i = 0; i < size; ++i)
      chunk.items.push_back({n[i].template as<E>()});
    return chunk;
  }
};

namespace cannery::detail {

std::string map_count_message(std::size_t got, std::size_t count);

// Elements of one map argument: a list of E, or for numbers a 1-D array.
template <class E>
std::vector<Element<E>> read_chunk(ArgumentReader& r, std::span<const Buffer> frames,
                                   std::size_t count) {
  const std::string tag = r.tag_of(frames);
  std::vector<Element<E>> items;
  if (tag == format::tag_list) {
    items = r.uncan<ListChunk<E>>(frames).items;
  } else if constexpr (array_element<E>) {
    if (tag != format::tag_ndarray) {
      r.fail(errc::type_mismatch, "map needs a list or a 1-D array, got " + tag);
    }
    std::vector<E> numbers = r.uncan<std::vector<E>>(frames);
    items.reserve(numbers.size());
    for (const E& x : numbers)
      items.push_back({x});
  } else {
    r.fail(errc::type_mismatch, "map needs a list, got " + tag);
  }
  if (items.size() != count) r.fail(errc::shape_mismatch, map_count_message(items.size(), count));
  return items;
}

template <class P>
class MapChunk {
  using D = std::remove_cvref_t<P>;

 public:
  MapChunk(ArgumentReader& r, std::size_t count) : items_(read_chunk<D>(r, r.next(), count)) {}
  decltype(auto) get(std::size_t i) {
    if constexpr (wants_lvalue<P>) {
      return (items_[i].value);
    } else {
      return std::move(items_[i].value);
    }
  }

 private:
  std::vector<Element<D>> items_;
};

template <class P>
requires eigen_const_ref<std::remove_cvref_t<P>>::value class MapChunk<P> {
  using Ref = std::remove_cvref_t<P>;
  using Traits = eigen_const_ref<Ref>;

 public:
  MapChunk(ArgumentReader& r, std::size_t count) {
    std::span<const Buffer> frames = r.next();
    try {
      views_ = read_chunk<typename Traits::view>(r, frames, count);
      return;
    } catch (const error& e) {
      if (e.code() != errc::shape_mismatch && e.code() != errc::misaligned) throw;
    }
    owned_ = read_chunk<typename Traits::plain>(r, frames, count);
  }
  Ref get(std::size_t i) const {
    return owned_.empty() ? Ref(views_[i].value) : Ref(owned_[i].value);
  }

 private:
  std::vector<Element<typename Traits::view>> views_;
  std::vector<Element<typename Traits::plain>> owned_;
};

}  // namespace cannery::detail
