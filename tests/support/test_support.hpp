#pragma once
// Helpers shared by the test files.

#include <cannery/canning.hpp>
#include <catch2/catch.hpp>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace cannery::test {

// The frames as a receiver sees them: copies in fresh memory, as after a
// trip through a socket.
inline std::vector<Buffer> wire(const std::vector<Buffer>& frames) {
  std::vector<Buffer> received;
  received.reserve(frames.size());
  for (const auto& f : frames)
    received.push_back(Buffer::copy_of(f.data(), f.size()));
  return received;
}

// Whether `p` points into the bytes of `b` (proof that a view is zero copy).
inline bool inside(const void* p, const Buffer& b) {
  const auto* q = static_cast<const std::byte*>(p);
  return q >= b.data() && q < b.data() + b.size();
}

// The cannery::error that `f` throws; fails the test when it throws none.
template <class F>
error capture_error(F&& f) {
  try {
    f();
  } catch (const error& e) {
    return e;
  }
  FAIL("expected a cannery::error");
  throw std::logic_error("unreachable");
}

// n doubles start, start + 0.5, start + 1, ...
inline std::vector<double> ramp(std::size_t n, double start = 0.0) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = start + 0.5 * static_cast<double>(i);
  return v;
}

}  // namespace cannery::test
