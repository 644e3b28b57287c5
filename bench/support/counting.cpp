// Replaces the global allocation functions to count them. It lives in its own
// translation unit, linked into every benchmark.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "counting.hpp"

namespace {

// One counter per thread, each on its own cache line: with a single shared
// counter every allocation would pull that line from the other core, a cost
// that only the side which allocates pays (the raw baselines allocate
// nothing through operator new) and that would be charged to our code.
struct alignas(64) Slot {
  std::atomic<std::uint64_t> count{0};
};
constexpr std::size_t slot_count = 64;  // more threads share slots, still counted
Slot g_slots[slot_count];
std::atomic<std::size_t> g_threads{0};

void count_allocation() noexcept {
  thread_local Slot& mine = g_slots[g_threads.fetch_add(1) % slot_count];
  mine.count.fetch_add(1, std::memory_order_relaxed);
}

void* counted_malloc(std::size_t size) noexcept {
  count_allocation();
  return std::malloc(size == 0 ? 1 : size);
}

void* counted_aligned(std::size_t size, std::align_val_t alignment) noexcept {
  count_allocation();
  const auto align = static_cast<std::size_t>(alignment);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t rounded = std::max(align, (size + align - 1) / align * align);
  return std::aligned_alloc(align, rounded);
}

void* or_throw(void* p) {
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) {
  return or_throw(counted_malloc(size));
}
void* operator new[](std::size_t size) {
  return or_throw(counted_malloc(size));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted_malloc(size);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
  return or_throw(counted_aligned(size, alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return or_throw(counted_aligned(size, alignment));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace cannery::bench {

std::uint64_t allocations() noexcept {
  std::uint64_t total = 0;
  for (const Slot& slot : g_slots)
    total += slot.count.load(std::memory_order_relaxed);
  return total;
}

std::uint64_t minor_faults() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_minflt);
}

void Counting::report(benchmark::State& state, std::uint64_t per_iteration) const {
  const double messages = static_cast<double>(std::max<std::int64_t>(state.iterations(), 1)) *
                          static_cast<double>(per_iteration);
  state.counters["allocs"] = static_cast<double>(allocations() - allocations_) / messages;
  state.counters["page_faults"] = static_cast<double>(minor_faults() - faults_) / messages;
}

}  // namespace cannery::bench
