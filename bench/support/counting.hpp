#pragma once
// Counters shared by the benchmarks: heap allocations (operator new is
// replaced in counting.cpp) and minor page faults, per iteration or per
// message. When page_faults is large a benchmark measures first touch of
// fresh memory rather than our code.

#include <benchmark/benchmark.h>

#include <cstdint>

namespace cannery::bench {

std::uint64_t allocations() noexcept;
std::uint64_t minor_faults() noexcept;

// Counts between construction and report(); start it right before the
// timing loop. `per_iteration` messages make one iteration.
class Counting {
 public:
  Counting() : allocations_(allocations()), faults_(minor_faults()) {}
  void report(benchmark::State& state, std::uint64_t per_iteration = 1) const;

 private:
  std::uint64_t allocations_;
  std::uint64_t faults_;
};

inline void set_bytes(benchmark::State& state, std::size_t bytes_per_iteration) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes_per_iteration));
}

}  // namespace cannery::bench
