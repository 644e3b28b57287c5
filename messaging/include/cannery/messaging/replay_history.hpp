#pragma once
// The signatures a session has accepted, newest `capacity` of them, so that a
// message sent again verbatim (a replay) is refused as jupyter_client does.
// Only verified signatures are remembered, so every entry is an HMAC output:
// hex characters an attacker cannot choose.
//
// It is consulted on every received message, with a history of 65,536 by
// default: std::unordered_set spent a division and two or three cache misses
// per message walking its buckets, a tenth of the receiving thread's time.
// This is a linear-probing table of positions into a ring of signatures, with
// power-of-two masking and no allocation. Each slot also keeps its key's
// hash, so probing and the eviction's reshuffle compare and place entries
// without visiting the ring: a message costs about two cache misses.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cannery {

class ReplayHistory {
 public:
  // Characters of a signature that identify it: the first 128 bits of the
  // HMAC. Another verified message with the same ones is as hard to make as
  // forging a 128-bit MAC.
  static constexpr std::size_t key_size = 32;

  explicit ReplayHistory(std::size_t capacity);

  // Remembers the signature and returns true, or returns false when it is
  // already remembered. A capacity of 0 remembers nothing and always returns
  // true. A signature shorter than key_size is refused with cannery::error
  // (it cannot come from a verified message).
  bool remember(std::string_view signature);

  // Starts loading the table slots that remember(signature) will visit, so
  // that their cache misses overlap the HMAC check that must come first.
  // Changes nothing; a signature too short to remember is ignored.
  void prefetch(std::string_view signature) const noexcept;

 private:
  using Key = std::array<char, key_size>;
  struct Slot {
    std::uint32_t entry = 0;  // ring index + 1; 0 marks an empty slot
    std::uint32_t hash = 0;   // hash_of(the key at that ring index)
  };

  static std::uint32_t hash_of(const char* key) noexcept;
  std::size_t home(std::uint32_t hash) const noexcept { return hash >> shift_; }
  // The slot holding `key`, or the first empty slot on its probe path when
  // it is not remembered.
  std::size_t find(const Key& key, std::uint32_t hash) const noexcept;
  void erase_slot(std::size_t slot) noexcept;

  std::size_t capacity_;
  std::vector<Key> ring_;  // in arrival order; once full, next_ is the oldest
  std::size_t next_ = 0;
  std::vector<Slot> slots_;  // at most half full
  std::size_t mask_ = 0;
  int shift_ = 0;  // home() keeps the hash's top bits, as many as index the slots
};

}  // namespace cannery
