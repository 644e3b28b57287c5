#pragma once
// FunctionRegistry: the functions an engine runs, registered by name with
// their C++ signatures. Nothing is ever run from message bytes: a call names a
// registered function, and its arguments are uncanned as the parameter types.
//
//   cannery::FunctionRegistry functions;
//   functions.function("trace_scaled", [](Eigen::Ref<const Eigen::MatrixXd> m, double s) {
//     return m.trace() * s;
//   });
//   auto call = cannery::pack_apply_message("trace_scaled", matrix, 2.0);
//   cannery::CannedObject result = functions.apply(call);  // 2 * trace(matrix), canned
//
// Parameters (docs/engine.md has the full rules):
//   - view types read the received frames in place: Eigen::Ref<const M>,
//     Eigen::Map<const M, ...>, std::span<const T>, cannery::NDArray,
//     std::string_view, cannery::Object;
//   - any other type is uncanned as an owning value (std::decay_t of it).
//   - positional only: a call with keyword arguments is refused.
// Results are canned with ownership (so they travel without a copy); a
// result that views the arguments (a Map, an Eigen expression, a span) is
// first turned into an owning value; void gives null.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "cannery/canning/apply.hpp"
#include "cannery/canning/registry.hpp"
#include "cannery/canning/serialize.hpp"
#include "cannery/engine/detail/callable_traits.hpp"
#include "cannery/engine/detail/invoke.hpp"
#include "cannery/engine/object_cache.hpp"

namespace cannery {

class FunctionRegistry {
 public:
  // Registers `f` under `name`. Its parameter types are read from its
  // signature: a function (pointer), a lambda or function object with one
  // non-template operator(), a std::function. Throws invalid_argument for an
  // empty or already registered name.
  template <class F>
  void function(std::string name, F&& f);

  // Lets dynamic cannery::Object arguments and results hold T (a tagged
  // canner): the same as cannery::register_type<T>().
  template <class T>
  void register_type() {
    cannery::register_type<T>();
  }

  bool contains(std::string_view name) const;
  // Sorted.
  std::vector<std::string> names() const;
  std::size_t size() const noexcept { return entries_.size(); }

  // Runs the call: the function it names with its arguments (an argument
  // ["cannery.ref", id] reads as the object cached under id in `cache`).
  // Returns the result canned with ownership. Throws unknown_function for a
  // name nobody registered, invalid_argument for a wrong argument count or
  // keyword arguments, type_mismatch / shape_mismatch / ... (prefixed
  // "argument i of 'f': ") for an argument the parameter cannot take, and
  // whatever the function itself throws.
  CannedObject apply(ApplyMessage& call, const ObjectCache* cache = nullptr) const;
  CannedObject apply(std::span<const Buffer> frames, const ObjectCache* cache = nullptr,
                     const Limits& limits = {}) const;

  // Runs the function once per index: positional argument i of the call is
  // a list (or, for number parameters, a 1-D array) of `count` elements.
  // Returns the list of results (an ndarray when they are numbers).
  CannedObject map(ApplyMessage& call, std::size_t count, const ObjectCache* cache = nullptr) const;
  CannedObject map(std::span<const Buffer> frames, std::size_t count,
                   const ObjectCache* cache = nullptr, const Limits& limits = {}) const;

 private:
  struct Entry {
    std::size_t arity = 0;
    std::function<CannedObject(ApplyMessage&, const ObjectCache*)> apply;
    std::function<CannedObject(ApplyMessage&, std::size_t, const ObjectCache*)> map;
  };
  void add(std::string name, Entry entry);
  const Entry& find(const std::string& name) const;

  std::map<std::string, Entry, std::less<>> entries_;
};

template <class F>
void FunctionRegistry::function(std::string name, F&& f) {
  using Fn = std::decay_t<F>;
  static_assert(detail::deducible_callable<Fn>,
                "cannery: FunctionRegistry::function cannot read the parameter types of this "
                "callable (a generic lambda, or an overloaded operator()?): give the lambda "
                "explicit parameter types, e.g. [](double x, std::span<const double> v) {...}");
  using Params = typename detail::deduced_signature<Fn>::parameters;
  []<class... P>(std::tuple<P...>*) {
    (detail::check_parameter<P>(), ...);
  }(static_cast<Params*>(nullptr));
  using Invoker = detail::Invoker<Fn, Params>;
  // Shared by apply and map, so a function object with state has one state.
  auto shared = std::make_shared<Fn>(std::forward<F>(f));
  add(std::move(name),
      Entry{std::tuple_size_v<Params>,
            [shared](ApplyMessage& call, const ObjectCache* cache) {
              return Invoker::apply(*shared, call, cache);
            },
            [shared](ApplyMessage& call, std::size_t count, const ObjectCache* cache) {
              return Invoker::map(*shared, call, count, cache);
            }});
}

}  // namespace cannery
