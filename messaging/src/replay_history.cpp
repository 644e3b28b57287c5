#include "cannery/messaging/replay_history.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "cannery/canning/error.hpp"

namespace cannery {

ReplayHistory::ReplayHistory(std::size_t capacity) : capacity_(capacity) {
  if (capacity_ == 0) return;
  if (capacity_ >= std::numeric_limits<std::uint32_t>::max() / 2) {
    throw error(errc::invalid_argument,
                "replay history of " + std::to_string(capacity_) +
                    " signatures is too large; keep SessionOptions::replay_history under 2^31");
  }
  const std::size_t slots = std::bit_ceil(2 * capacity_);
  slots_.assign(slots, Slot{});
  mask_ = slots - 1;
  shift_ = 32 - std::countr_zero(slots);                  // at least 2 slots: a shift below 32
  ring_.reserve(std::min<std::size_t>(capacity_, 4096));  // grows with the traffic
}

std::uint32_t ReplayHistory::hash_of(const char* key) noexcept {
  // Hex digits carry 4 bits a byte: mix all 64 bits of the first eight and
  // keep the top half of the product (Fibonacci hashing).
  std::uint64_t prefix;
  std::memcpy(&prefix, key, sizeof prefix);
  return static_cast<std::uint32_t>((prefix * 0x9E3779B97F4A7C15ull) >> 32);
}

std::size_t ReplayHistory::find(const Key& key, std::uint32_t hash) const noexcept {
  std::size_t slot = home(hash);
  for (; slots_[slot].entry != 0; slot = (slot + 1) & mask_) {
    if (slots_[slot].hash == hash && ring_[slots_[slot].entry - 1] == key) break;
  }
  return slot;
}

// Linear probing's deletion: later entries of the same run move back into
// the hole when their home does not lie cyclically between the hole and them.
void ReplayHistory::erase_slot(std::size_t hole) noexcept {
  for (std::size_t slot = (hole + 1) & mask_; slots_[slot].entry != 0; slot = (slot + 1) & mask_) {
    const std::size_t wanted = home(slots_[slot].hash);
    const bool stays =
        hole <= slot ? (hole < wanted && wanted <= slot) : (hole < wanted || wanted <= slot);
    if (stays) continue;
    slots_[hole] = slots_[slot];
    hole = slot;
  }
  slots_[hole] = Slot{};
}

void ReplayHistory::prefetch(std::string_view signature) const noexcept {
  if (capacity_ == 0 || signature.size() < key_size) return;
  __builtin_prefetch(&slots_[home(hash_of(signature.data()))]);
  // Once full, remembering also evicts the oldest key, found from its slot.
  if (ring_.size() == capacity_) __builtin_prefetch(&slots_[home(hash_of(ring_[next_].data()))]);
}

bool ReplayHistory::remember(std::string_view signature) {
  if (capacity_ == 0) return true;
  if (signature.size() < key_size) {
    throw error(errc::invalid_argument, "a remembered signature has at least " +
                                            std::to_string(key_size) + " characters, not " +
                                            std::to_string(signature.size()));
  }
  Key key;
  std::copy_n(signature.begin(), key_size, key.begin());
  const std::uint32_t hash = hash_of(key.data());
  std::size_t slot = find(key, hash);
  if (slots_[slot].entry != 0) return false;
  if (ring_.size() < capacity_) {
    ring_.push_back(key);
    slots_[slot] = {static_cast<std::uint32_t>(ring_.size()), hash};
    return true;
  }
  // Full: the oldest entry leaves, its ring place takes the new key.
  const Key& oldest = ring_[next_];
  erase_slot(find(oldest, hash_of(oldest.data())));
  ring_[next_] = key;
  slot = find(key, hash);  // the erase may have moved entries along this probe run
  slots_[slot] = {static_cast<std::uint32_t>(next_ + 1), hash};
  next_ = (next_ + 1) % capacity_;
  return true;
}

}  // namespace cannery
