#pragma once
// DecodeBudget: what decoding one message may still allocate beyond a copy
// of the bytes that arrived (see Limits::decoded_bytes_per_byte for what
// counts and why). Canners charge it through Node::charge before they
// allocate from a count or a shape that arrived.
//
// One budget per message stops many small objects from each bringing an
// allowance of their own: a list of a thousand tiny sparse matrices, or a
// call of a thousand arguments, shares one.
//
//   cannery::DecodeBudget budget(limits);     // several objects, one budget
//   limits.shared_budget.link(&budget);
//   while (!rest.empty()) rest = cannery::deserialize_object(rest, limits).remaining;

#include <cstddef>
#include <string_view>

#include "cannery/canning/options.hpp"

namespace cannery {

class DecodeBudget {
 public:
  // Starts with limits.decoded_bytes_allowance.
  explicit DecodeBudget(const Limits& limits) noexcept;

  // One object of `bytes` bytes (header and buffer frames) is about to be
  // read: adds decoded_bytes_per_byte x bytes (saturating).
  void add_received(std::size_t bytes) noexcept;

  // Takes count x bytes_each, or throws limit_exceeded and takes nothing.
  // `what` names the items in the error ("items of a list"); a literal, so
  // that nothing is formatted unless the budget is spent.
  void charge(std::size_t count, std::size_t bytes_each, std::string_view what);

  std::size_t left() const noexcept { return left_; }
  std::size_t used() const noexcept { return used_; }

 private:
  std::size_t per_byte_;
  std::size_t allowance_;
  std::size_t received_ = 0;
  std::size_t left_;
  std::size_t used_ = 0;
};

namespace detail {
// What a node-based container adds to each entry: a std::map's colour and
// three links, or a std::unordered_map's link, cached hash and bucket.
inline constexpr std::size_t node_overhead = 4 * sizeof(void*);
}  // namespace detail

}  // namespace cannery
