#pragma once
// The result and parameter types of a callable, read from its signature:
// function pointers and references, lambdas and other function objects with
// one non-template operator() (std::function included).

#include <tuple>
#include <type_traits>

namespace cannery::detail {

template <class R, class... A>
struct signature {
  using result = R;
  using parameters = std::tuple<A...>;
  static constexpr std::size_t arity = sizeof...(A);
};

template <class F>
struct callable_traits;

template <class R, class... A>
struct callable_traits<R(A...)> : signature<R, A...> {};
template <class R, class... A>
struct callable_traits<R(A...) noexcept> : signature<R, A...> {};

// operator() of lambdas and function objects, with every qualifier.
#define CANNERY_DETAIL_MEMBER_CALL(...)   \
  template <class R, class C, class... A> \
  struct callable_traits<R (C::*)(A...) __VA_ARGS__> : signature<R, A...> {}
CANNERY_DETAIL_MEMBER_CALL();
CANNERY_DETAIL_MEMBER_CALL(const);
CANNERY_DETAIL_MEMBER_CALL(noexcept);
CANNERY_DETAIL_MEMBER_CALL(const noexcept);
CANNERY_DETAIL_MEMBER_CALL(&);
CANNERY_DETAIL_MEMBER_CALL(const&);
CANNERY_DETAIL_MEMBER_CALL(&noexcept);
CANNERY_DETAIL_MEMBER_CALL(const& noexcept);
#undef CANNERY_DETAIL_MEMBER_CALL

template <class F>
concept has_plain_call_operator = requires {
  &F::operator();
};

template <class F>
concept deducible_callable =
    std::is_function_v<std::remove_pointer_t<F>> || has_plain_call_operator<F>;

template <class F>
struct deduced_signature : callable_traits<std::remove_pointer_t<F>> {};
template <has_plain_call_operator F>
struct deduced_signature<F> : callable_traits<decltype(&F::operator())> {};

}  // namespace cannery::detail
