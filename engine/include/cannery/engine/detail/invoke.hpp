#pragma once
// Calling a registered function: parameters are read in order into holders
// that live on the stack for the duration of the call (so an Eigen::Ref may
// bind to them), then the result is made owning and canned.

#include <Eigen/Core>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cannery/canning/serialize.hpp"
#include "cannery/engine/detail/arguments.hpp"

namespace cannery::detail {

template <class T>
struct is_std_span : std::false_type {};
template <class T, std::size_t N>
struct is_std_span<std::span<T, N>> : std::true_type {};

// A result that may view the arguments (an Eigen expression or Map, a span, a
// string_view) becomes a value that owns its data: the arguments' frames are
// gone by the time the reply is sent.
template <class T>
auto to_owning(T&& result) {
  using D = std::remove_cvref_t<T>;
  if constexpr (std::is_base_of_v<Eigen::DenseBase<D>, D> && !eigen_plain<D>) {
    return typename D::PlainObject(std::forward<T>(result));
  } else if constexpr (is_std_span<D>::value) {
    return std::vector<std::remove_cv_t<typename D::element_type>>(result.begin(), result.end());
  } else if constexpr (std::is_same_v<D, std::string_view>) {
    return std::string(result);
  } else {
    return D(std::forward<T>(result));
  }
}

// Makes every buffer of a canned result owned, so the reply keeps its bytes:
// a borrowed one that lies inside one of the call's received frames (a view
// of an argument, returned) shares that frame's owner; any other (a view of
// a local or of a converted argument) is copied once.
CannedObject owned_result(CannedObject canned, std::span<const Buffer> inputs);

// An apply's result, canned and owned while the argument holders still live:
// a view of memory (a span, an Eigen Map, Ref or direct block) is canned as
// a view, so that owned_result can share the received frame it points into
// instead of copying it; an Eigen expression that is no view is evaluated.
template <class F, class... A>
CannedObject call_canned(F& f, std::span<const Buffer> inputs, A&&... args) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, A&&...>>) {
    std::invoke(f, std::forward<A>(args)...);
    return can(nullptr);
  } else {
    decltype(auto) result = std::invoke(f, std::forward<A>(args)...);
    using D = std::remove_cvref_t<decltype(result)>;
    if constexpr (std::is_base_of_v<Eigen::DenseBase<D>, D> && !eigen_plain<D> &&
                  !eigen_direct_dense<D>) {
      return owned_result(can(typename D::PlainObject(std::move(result))), inputs);
    } else {
      static_assert(cannable<D> || std::is_same_v<D, std::string_view>,
                    CANNERY_DETAIL_NOT_CANNABLE("result type of a registered function"));
      if constexpr (std::is_same_v<D, std::string_view>) {
        return owned_result(can(std::string(result)), inputs);
      } else {
        return owned_result(can(std::forward<decltype(result)>(result)), inputs);
      }
    }
  }
}

template <class F, class... A>
auto call_owning(F& f, A&&... args) {
  if constexpr (std::is_void_v<std::invoke_result_t<F&, A&&...>>) {
    std::invoke(f, std::forward<A>(args)...);
    return nullptr;
  } else {
    return to_owning(std::invoke(f, std::forward<A>(args)...));
  }
}

// Reads parameter I (and, recursively, the ones after it), then calls f.
template <class Params, std::size_t I, class F, class... Done>
CannedObject invoke_reading(F& f, ArgumentReader& r, Done&&... done) {
  if constexpr (I == std::tuple_size_v<Params>) {
    return call_canned(f, r.call_frames(), std::forward<Done>(done)...);
  } else {
    ArgHolder<std::tuple_element_t<I, Params>> holder(r);
    auto&& arg = holder.get();
    return invoke_reading<Params, I + 1>(f, r, std::forward<Done>(done)...,
                                         std::forward<decltype(arg)>(arg));
  }
}

// Calls f with element `index` of every chunk.
template <std::size_t I, class F, class Chunks, class... Done>
auto invoke_at(F& f, Chunks& chunks, std::size_t index, Done&&... done) {
  if constexpr (I == std::tuple_size_v<Chunks>) {
    return call_owning(f, std::forward<Done>(done)...);
  } else {
    auto&& arg = std::get<I>(chunks).get(index);
    return invoke_at<I + 1>(f, chunks, index, std::forward<Done>(done)...,
                            std::forward<decltype(arg)>(arg));
  }
}

// Non-template checks and finishing steps (functions.cpp).
void check_arguments(const ApplyMessage& call, std::size_t arity);
[[noreturn]] void refuse_map_without_arguments(const ApplyMessage& call);

template <class F, class Params>
struct Invoker;

template <class F, class... P>
struct Invoker<F, std::tuple<P...>> {
  static CannedObject apply(F& f, ApplyMessage& call, const ObjectCache* cache) {
    check_arguments(call, sizeof...(P));
    ArgumentReader reader(call, cache);
    return invoke_reading<std::tuple<P...>, 0>(f, reader);
  }

  static CannedObject map(F& f, ApplyMessage& call, std::size_t count, const ObjectCache* cache) {
    check_arguments(call, sizeof...(P));
    if constexpr (sizeof...(P) == 0) {
      refuse_map_without_arguments(call);
    } else {
      ArgumentReader reader(call, cache);
      // A braced list reads the arguments in order.
      std::tuple<MapChunk<P>...> chunks{MapChunk<P>(reader, count)...};
      using R = decltype(invoke_at<0>(f, chunks, std::size_t{0}));
      // count is bounded now: every chunk held that many received elements.
      std::vector<R> results;
      results.reserve(count);
      for (std::size_t i = 0; i < count; ++i)
        results.push_back(invoke_at<0>(f, chunks, i));
      return owned_result(can(std::move(results)), call.frames());
    }
  }
};

}  // namespace cannery::detail
