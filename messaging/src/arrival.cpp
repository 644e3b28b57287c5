#include "cannery/messaging/arrival.hpp"

#include <cstring>
#include <new>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/shared_array.hpp"

namespace cannery {
namespace {

// Every element type and cache line, as shared-memory frames are placed.
constexpr std::size_t frame_alignment = 64;

std::size_t aligned(std::size_t n) {
  return (n + frame_alignment - 1) / frame_alignment * frame_alignment;
}

}  // namespace

Arrival::Arrival(std::span<const std::uint64_t> frame_sizes, bool shared) {
  std::size_t memory_bytes = 0;
  for (std::uint64_t size : frame_sizes) {
    places_.push_back(memory_bytes);
    total_ += size;
    memory_bytes = aligned(memory_bytes + static_cast<std::size_t>(size));
  }
  if (shared) {
    try {
      memory_ = detail::create_shared_mapping(memory_bytes);
      shared_ = true;
    } catch (const error&) {
      // No room in /dev/shm: the engines of this host fetch it instead.
    }
  }
  if (!memory_) {
    try {
      // Not zero-filled: every byte is written before it is read.
      memory_ = std::shared_ptr<std::byte[]>(new std::byte[std::max<std::size_t>(memory_bytes, 1)]);
    } catch (const std::bad_alloc&) {
      throw error(errc::limit_exceeded, "cannot allocate " + std::to_string(memory_bytes) +
                                            " bytes for a relayed object: this engine's host "
                                            "lacks the memory; use fewer or smaller objects");
    }
  }
  base_ = static_cast<std::byte*>(memory_.get());
  for (std::size_t i = 0; i < frame_sizes.size(); ++i)
    frames_.emplace_back(base_ + places_[i], static_cast<std::size_t>(frame_sizes[i]), memory_);
}

void Arrival::write(std::uint64_t offset, std::span<const std::byte> bytes) {
  const std::optional<FrameSlice> at = slice_at(frames_, offset);
  if (!at || bytes.size() > at->left) {
    throw error(errc::malformed_message, "a relayed piece of " + std::to_string(bytes.size()) +
                                             " bytes at offset " + std::to_string(offset) +
                                             " does not lie within one frame of the object");
  }
  std::memcpy(base_ + places_[at->frame] + at->within, bytes.data(), bytes.size());
}

std::optional<FrameSlice> slice_at(std::span<const Buffer> frames, std::uint64_t offset) noexcept {
  std::uint64_t start = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const std::uint64_t size = frames[i].size();
    if (offset < start + size) return FrameSlice{i, offset - start, start + size - offset};
    start += size;
  }
  return std::nullopt;
}

}  // namespace cannery
