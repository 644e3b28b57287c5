#pragma once
// An object arriving piece by piece (a relayed put, docs/protocol.md,
// "chunk_request"): memory laid out for its frames from the start, which the
// fetching thread fills in order while an ObjectServer already serves the
// bytes that arrived to the engines fetching from this one. That is what
// makes a relay a pipeline: each engine passes bytes on while it receives.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "cannery/canning/buffer.hpp"

namespace cannery {

class Arrival {
 public:
  // Memory for frames of `frame_sizes` bytes, each frame aligned for any
  // element type: one new shared-memory segment when `shared` (so that
  // engines on this host can map the object instead of fetching it; the
  // heap when no segment can be made), else the heap. Throws
  // cannery::error(limit_exceeded) when the heap cannot hold it.
  Arrival(std::span<const std::uint64_t> frame_sizes, bool shared);

  // Views of the frames, filled or not: read only the first arrived() bytes
  // (frames end to end) until complete().
  const std::vector<Buffer>& frames() const noexcept { return frames_; }
  std::uint64_t total() const noexcept { return total_; }
  bool in_shared_memory() const noexcept { return shared_; }

  // Bytes from the start, frames end to end, that arrived.
  std::uint64_t arrived() const noexcept { return arrived_.load(std::memory_order_acquire); }
  bool complete() const noexcept { return arrived() == total_; }

  // The fetching thread only: copies `bytes` to stream offset `offset`
  // (within one frame, checked), then, once everything before `arrived`
  // is in place, publishes it.
  void write(std::uint64_t offset, std::span<const std::byte> bytes);
  void publish(std::uint64_t arrived) noexcept {
    arrived_.store(arrived, std::memory_order_release);
  }

 private:
  std::shared_ptr<void> memory_;
  std::byte* base_ = nullptr;
  std::vector<std::size_t> places_;  // each frame's offset in memory_
  std::vector<Buffer> frames_;
  std::uint64_t total_ = 0;
  bool shared_ = false;
  std::atomic<std::uint64_t> arrived_{0};
};

// The frame holding stream offset `offset` of `frames` taken end to end
// (empty frames hold none), where in it, and its bytes from there on;
// nullopt past the end.
struct FrameSlice {
  std::size_t frame;
  std::uint64_t within;
  std::uint64_t left;
};
std::optional<FrameSlice> slice_at(std::span<const Buffer> frames, std::uint64_t offset) noexcept;

}  // namespace cannery
