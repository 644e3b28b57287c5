#include "cannery/canning/decode_budget.hpp"

#include <limits>
#include <string>

#include "cannery/canning/error.hpp"

namespace cannery {
namespace {

std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  std::size_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? std::numeric_limits<std::size_t>::max() : sum;
}

std::size_t saturating_mul(std::size_t a, std::size_t b) noexcept {
  std::size_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? std::numeric_limits<std::size_t>::max() : product;
}

}  // namespace

DecodeBudget::DecodeBudget(const Limits& limits) noexcept
    : per_byte_(limits.decoded_bytes_per_byte),
      allowance_(limits.decoded_bytes_allowance),
      left_(limits.decoded_bytes_allowance) {}

void DecodeBudget::add_received(std::size_t bytes) noexcept {
  received_ = saturating_add(received_, bytes);
  left_ = saturating_add(left_, saturating_mul(bytes, per_byte_));
}

void DecodeBudget::charge(std::size_t count, std::size_t bytes_each, std::string_view what) {
  const std::size_t bytes = saturating_mul(count, bytes_each);
  if (bytes <= left_) {
    left_ -= bytes;
    used_ += bytes;
    return;
  }
  throw error(errc::limit_exceeded,
              "decoding " + std::to_string(count) + " " + std::string(what) + " (" +
                  std::to_string(bytes_each) + " bytes each) would allocate more than is left of " +
                  "this message's decode budget (" + std::to_string(left_) + " of " +
                  std::to_string(used_ + left_) + " bytes: " + std::to_string(received_) +
                  " bytes received x Limits::decoded_bytes_per_byte " + std::to_string(per_byte_) +
                  " + Limits::decoded_bytes_allowance " + std::to_string(allowance_) +
                  "); raise those limits if the sender is trusted and the memory is there");
}

}  // namespace cannery
