#pragma once
// Warm memory for large received frames (docs/messaging.md, "Warm receive
// memory").
//
// libzmq receives each frame into memory it takes from malloc, and glibc
// serves a large request with fresh pages: its own mmap, or a thread arena's
// heap that is unmapped again once empty. The kernel then faults each 4 KiB
// page in while the frame is written, and on virtual machines that, not the
// copy, bounds a large transfer. keep_receive_memory_warm() sets glibc so
// that freed blocks stay in the process for the next message: one arena, no
// mmap for large blocks, no trimming of the free memory below `bound`. A
// ReceiveMemoryKeeper, run by whoever receives (the engine's loop, the
// controller's core), holds what is kept to that bound and gives it back
// after a quiet spell. A program that receives large results (a
// controller's) calls it first thing in main(), before it starts a thread
// or a Controller (tests/messaging/receive_memory_probe.cpp does).
//
// The setting is the whole process's: all its threads then allocate from one
// arena, which costs programs whose threads allocate heavily at the same time
// some contention. cannery-engine applies it unless told otherwise
// (--keep-receive-memory).

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

#include "cannery/canning/buffer.hpp"

namespace cannery {

// Sets the C library's allocator as above, keeping up to `bound` bytes of
// freed memory for reuse. Only effective before the process's second thread
// has allocated (glibc picks each thread's arena then). False, with nothing
// changed, when the allocator is not glibc's (a sanitizer's, say) or `bound`
// is 0.
bool keep_receive_memory_warm(std::size_t bound);

// The bound given to keep_receive_memory_warm, or 0 when it was not called
// (or did nothing).
std::size_t receive_memory_bound() noexcept;

// Free memory the process holds resident for reuse, in bytes: its resident
// private memory beyond what is allocated and what it had before
// keep_receive_memory_warm was called. An estimate (a thread's stack that
// grew counts too); 0 when the allocator is not glibc's.
std::size_t free_memory_held();

// The bytes of `buffers`: what a message brought beyond its envelope.
std::size_t buffer_bytes(std::span<const Buffer> buffers) noexcept;

// Keeps the free memory within receive_memory_bound(), and gives it back
// after `return_after` without a large message. Does nothing when
// keep_receive_memory_warm was not called. Not thread-safe: one per
// receiving loop.
class ReceiveMemoryKeeper {
 public:
  using Clock = std::chrono::steady_clock;
  // Messages of fewer bytes do not count as large.
  static constexpr std::size_t large_message_bytes = std::size_t{1} << 20;

  explicit ReceiveMemoryKeeper(
      std::chrono::milliseconds return_after = std::chrono::milliseconds(5000));

  // After a message of `bytes` (its buffers) was received and handled.
  void after_message(std::size_t bytes, Clock::time_point now);
  // Now and then, when idle: gives the memory back once `return_after` has
  // passed since the last large message.
  void tick(Clock::time_point now);
  // When tick() will next have something to do; none while nothing is held.
  std::optional<Clock::time_point> next_tick() const noexcept;

 private:
  std::chrono::milliseconds return_after_;
  bool holding_ = false;
  Clock::time_point last_large_{};
};

}  // namespace cannery
