#include "cannery/messaging/receive_memory.hpp"

#include <malloc.h>

#include <atomic>
#include <charconv>
#include <fstream>
#include <string>

namespace cannery {
namespace {

// A sanitizer brings its own allocator; glibc's settings would not reach it.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool glibc_allocator = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool glibc_allocator = false;
#else
constexpr bool glibc_allocator = true;
#endif
#else
constexpr bool glibc_allocator = true;
#endif

std::atomic<std::size_t> bound_{0};
// Resident anonymous memory that was not the allocator's to hand out when
// keep_receive_memory_warm was called (stacks, libraries' data, memory from
// before): left out of free_memory_held().
std::atomic<std::size_t> other_anonymous_{0};

// RssAnon of /proc/self/status: the pages of this process's private memory
// that are resident, the allocator's free ones among them.
std::size_t resident_anonymous_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) {
      std::size_t kib = 0;
      const char* first = line.data() + line.find_first_of("0123456789");
      std::from_chars(first, line.data() + line.size(), kib);
      return kib * 1024;
    }
  }
  return 0;
}

std::size_t allocated_bytes() {
  return mallinfo2().uordblks;
}

}  // namespace

bool keep_receive_memory_warm(std::size_t bound) {
  if (!glibc_allocator || bound == 0) return false;
  // One arena: a thread arena's heap holds at most 64 MiB and is unmapped as
  // soon as it is empty, so libzmq's I/O thread would get fresh pages for
  // every large frame. No mmap: a block of any size is then reused from the
  // heap. Trimming only above the bound, at free().
  const int trim =
      bound > static_cast<std::size_t>(INT32_MAX) ? INT32_MAX : static_cast<int>(bound);
  if (mallopt(M_ARENA_MAX, 1) != 1 || mallopt(M_MMAP_MAX, 0) != 1 ||
      mallopt(M_TRIM_THRESHOLD, trim) != 1) {
    return false;
  }
  const std::size_t resident = resident_anonymous_bytes();
  const std::size_t allocated = allocated_bytes();
  other_anonymous_.store(resident > allocated ? resident - allocated : 0,
                         std::memory_order_relaxed);
  bound_.store(bound, std::memory_order_relaxed);
  return true;
}

std::size_t receive_memory_bound() noexcept {
  return bound_.load(std::memory_order_relaxed);
}

std::size_t buffer_bytes(std::span<const Buffer> buffers) noexcept {
  std::size_t total = 0;
  for (const Buffer& b : buffers)
    total += b.size();
  return total;
}

std::size_t free_memory_held() {
  if (!glibc_allocator) return 0;
  // Not mallinfo2's free total: that still counts blocks whose pages
  // malloc_trim gave back.
  const std::size_t resident = resident_anonymous_bytes();
  const std::size_t accounted =
      allocated_bytes() + other_anonymous_.load(std::memory_order_relaxed);
  return resident > accounted ? resident - accounted : 0;
}

ReceiveMemoryKeeper::ReceiveMemoryKeeper(std::chrono::milliseconds return_after)
    : return_after_(return_after) {}

void ReceiveMemoryKeeper::after_message(std::size_t bytes, Clock::time_point now) {
  const std::size_t bound = receive_memory_bound();
  if (bound == 0 || bytes < large_message_bytes) return;
  holding_ = true;
  last_large_ = now;
  // The trim threshold bounds only the free block at the top of the heap;
  // blocks freed below a live one are bounded here. malloc_trim keeps `bound`
  // at the top and gives back the free pages below.
  if (free_memory_held() > bound) malloc_trim(bound);
}

std::optional<ReceiveMemoryKeeper::Clock::time_point> ReceiveMemoryKeeper::next_tick()
    const noexcept {
  if (!holding_) return std::nullopt;
  return last_large_ + return_after_;
}

void ReceiveMemoryKeeper::tick(Clock::time_point now) {
  const std::optional<Clock::time_point> due = next_tick();
  if (!due || now < *due) return;
  holding_ = false;
  malloc_trim(0);
}

}  // namespace cannery
