#pragma once
// Whether text is well-formed UTF-8 as Unicode defines it (and as Python's
// strict decoder, which msgpack readers use for str, checks): no overlong
// forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF, no sequence
// cut short. Usable at compile time, for tags.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace cannery::detail {

constexpr bool is_valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  const std::size_t size = text.size();
  while (i < size) {
    // Eight ASCII bytes at a time: most text is ASCII.
    if (!std::is_constant_evaluated() && size - i >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Continuation bytes after `lead`, and the range of the first one
    // (narrower than 0x80..0xBF where that excludes overlong forms,
    // surrogates or code points past U+10FFFF).
    std::size_t more = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      more = 1;
    } else if (lead == 0xE0) {
      more = 2;
      low = 0xA0;
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      more = 2;
    } else if (lead == 0xED) {
      more = 2;
      high = 0x9F;
    } else if (lead == 0xF0) {
      more = 3;
      low = 0x90;
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      more = 3;
    } else if (lead == 0xF4) {
      more = 3;
      high = 0x8F;
    } else {
      return false;  // a continuation byte, C0, C1 or F5..FF as a lead
    }
    if (size - i - 1 < more) return false;
    const auto first = static_cast<unsigned char>(text[i + 1]);
    if (first < low || first > high) return false;
    for (std::size_t k = 2; k <= more; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xBF) return false;
    }
    i += more + 1;
  }
  return true;
}

}  // namespace cannery::detail
