#pragma once
// Apply messages: a function name plus positional and keyword arguments, each
// canned as its own object, so the receiver uncans them one at a time.
//
//   auto frames = cannery::pack_apply_message("trace_scaled", matrix, 2.0,
//                                             cannery::kw("verbose", true));
//   cannery::ApplyMessage call = cannery::unpack_apply_message(frames);
//   auto m = call.next_arg<Eigen::MatrixXd>();
//   double s = call.next_arg<double>();
//   auto [name, verbose] = call.next_kwarg<bool>();
//
// Frames: [apply header, arg 0 frames..., arg n-1 frames..., kwarg frames...]
// where the apply header is an object ["cannery.apply", {"function": name,
// "nargs": n, "kwargs": [names...]}].

#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cannery/canning/builtins/containers.hpp"
#include "cannery/canning/builtins/scalars.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/canning/serialize.hpp"

namespace cannery {

// A keyword argument; `kw` keeps a reference to an lvalue, so nothing is
// copied before canning.
template <class T>
struct Kwarg {
  std::string_view name;
  T value;
};
template <class T>
Kwarg<T> kw(std::string_view name, T&& value) {
  return {name, std::forward<T>(value)};
}

namespace detail {

template <class T>
struct is_kwarg : std::false_type {};
template <class T>
struct is_kwarg<Kwarg<T>> : std::true_type {};

struct ApplyHeader {
  std::string function;
  std::size_t nargs = 0;
  std::vector<std::string> kwargs;
};

}  // namespace detail

template <>
struct canner<detail::ApplyHeader> {
  static constexpr std::string_view tag = "cannery.apply";
  static void can(Writer& w, const detail::ApplyHeader& h);
  static detail::ApplyHeader uncan(const Node& n);
};

namespace detail {

// pack_apply_message_with, calling `on_argument(frames, first)` after each
// argument is canned: frames[first] is its header frame, its buffer frames
// follow to the end. The hook may replace those frames (a sender that keeps
// large arguments elsewhere, or copies what it cannot keep borrowing).
template <class OnArgument, class... Args>
std::vector<Buffer> pack_apply_message_hooked(const SerializeOptions& options,
                                              OnArgument&& on_argument, std::string_view function,
                                              Args&&... args) {
  detail::ApplyHeader header{std::string(function), 0, {}};
  bool kwargs_started = false;
  [[maybe_unused]] auto note = [&]<class A>(const A& arg) {
    if constexpr (detail::is_kwarg<std::remove_cvref_t<A>>::value) {
      header.kwargs.emplace_back(arg.name);
      kwargs_started = true;
    } else {
      if (kwargs_started) {
        throw error(
            errc::invalid_argument,
            "positional argument after a keyword argument in a call to '" + header.function + "'");
      }
      ++header.nargs;
    }
  };
  (note(args), ...);
  std::vector<Buffer> frames;
  frames.reserve(1 + sizeof...(Args));  // a header frame each; arrays add theirs
  // The header frames share allocations: a small call's all fit in one.
  detail::HeaderArena arena;
  // Returns where the value's frames begin.
  auto can_into_frames = [&](auto&& value) {
    const std::size_t first = frames.size();
    Writer writer(options, arena);
    writer.write(std::forward<decltype(value)>(value));
    std::move(writer).finish_into(frames);
    return first;
  };
  can_into_frames(header);
  [[maybe_unused]] auto append = [&]<class A>(A&& arg) {
    if constexpr (detail::is_kwarg<std::remove_cvref_t<A>>::value) {
      using V = decltype(arg.value);
      static_assert(cannable<std::remove_cvref_t<V>>,
                    CANNERY_DETAIL_NOT_CANNABLE("keyword argument passed to pack_apply_message"));
      on_argument(frames, can_into_frames(std::forward<V>(arg.value)));
    } else {
      static_assert(cannable<std::remove_cvref_t<A>>,
                    CANNERY_DETAIL_NOT_CANNABLE("argument passed to pack_apply_message"));
      on_argument(frames, can_into_frames(std::forward<A>(arg)));
    }
  };
  (append(std::forward<Args>(args)), ...);
  return frames;
}

}  // namespace detail

template <class... Args>
std::vector<Buffer> pack_apply_message_with(const SerializeOptions& options,
                                            std::string_view function, Args&&... args) {
  return detail::pack_apply_message_hooked(
      options, [](std::vector<Buffer>&, std::size_t) {}, function, std::forward<Args>(args)...);
}

template <class... Args>
std::vector<Buffer> pack_apply_message(std::string_view function, Args&&... args) {
  return pack_apply_message_with(SerializeOptions{}, function, std::forward<Args>(args)...);
}

// A received call, read progressively: each next_* uncans one argument from
// the front of the remaining frames. The frames must outlive this object.
class ApplyMessage {
 public:
  ApplyMessage(std::span<const Buffer> frames, const Limits& limits = {});

  const std::string& function() const noexcept { return header_.function; }
  std::size_t nargs() const noexcept { return header_.nargs; }
  const std::vector<std::string>& kwarg_names() const noexcept { return header_.kwargs; }
  std::size_t args_read() const noexcept { return args_read_; }
  std::size_t kwargs_read() const noexcept { return kwargs_read_; }
  std::span<const Buffer> remaining() const noexcept { return remaining_; }
  // All of the call's frames, the header's included.
  std::span<const Buffer> frames() const noexcept { return frames_; }

  // The next positional argument. Errors name the function and position.
  template <class T = Object>
  T next_arg() {
    if (args_read_ >= header_.nargs) {
      throw error(errc::invalid_argument, "'" + header_.function + "' was sent " +
                                              std::to_string(header_.nargs) +
                                              " positional arguments; asked for one more");
    }
    // Counted only once read, so a failed read can be retried with another type.
    T value = next<T>([&] { return "argument " + std::to_string(args_read_); });
    ++args_read_;
    return value;
  }

  // The frames of the next positional argument, not uncanned (to forward or
  // cache them, or to look at their tag with peek_object first). Counts as
  // read; the header is checked as next_arg checks it.
  std::span<const Buffer> next_arg_frames();

  // The bounds every argument is read with, linked to this call's decode
  // budget: every read given them (by reference), here or by a receiver
  // that uncans next_arg_frames() itself, draws from one budget for the
  // whole message. A copy is not linked (BudgetLink).
  const Limits& limits() const noexcept {
    limits_.shared_budget.link(external_budget_ != nullptr ? external_budget_ : &budget_);
    return limits_;
  }

  // The next keyword argument (after all positional ones), with its name.
  template <class T = Object>
  std::pair<std::string, T> next_kwarg() {
    if (args_read_ < header_.nargs) {
      throw error(errc::invalid_argument, "read all positional arguments before keyword arguments");
    }
    if (kwargs_read_ >= header_.kwargs.size()) {
      throw error(errc::invalid_argument,
                  "'" + header_.function + "' has no further keyword arguments");
    }
    const std::string& name = header_.kwargs[kwargs_read_];
    T value = next<T>([&] { return "keyword argument '" + name + "'"; });
    ++kwargs_read_;
    return {name, std::move(value)};
  }

 private:
  // `what` names the argument in an error; it is only called then.
  template <class T, class Describe>
  T next(Describe&& what) {
    try {
      auto [value, rest] = deserialize_object<T>(remaining_, limits());
      remaining_ = rest;
      return std::move(value);
    } catch (const error& e) {
      throw error(e.code(), what() + " of '" + header_.function + "': " + e.message());
    }
  }

  detail::ApplyHeader header_;
  std::span<const Buffer> frames_;
  std::span<const Buffer> remaining_;
  // Linked again by limits() on every use, so that a copied or moved
  // ApplyMessage links its own budget, never the one it came from.
  mutable Limits limits_;
  mutable DecodeBudget budget_;
  // The budget the caller's limits linked to, if any: then that one is shared.
  DecodeBudget* external_budget_;
  std::size_t args_read_ = 0;
  std::size_t kwargs_read_ = 0;
};

inline ApplyMessage unpack_apply_message(std::span<const Buffer> frames,
                                         const Limits& limits = {}) {
  return ApplyMessage(frames, limits);
}

}  // namespace cannery
