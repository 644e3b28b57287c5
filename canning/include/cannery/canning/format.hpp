#pragma once
// Constants of the wire format (docs/wire-format.md is the full description).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cannery/canning/detail/utf8.hpp"

namespace cannery::format {

// First element of every header frame; bumped on any incompatible change.
inline constexpr std::uint64_t version = 1;

// Tags of the built-in tagged nodes ([tag, payload]).
inline constexpr std::string_view tag_list = "list";
inline constexpr std::string_view tag_complex = "complex";
inline constexpr std::string_view tag_ndarray = "ndarray";
inline constexpr std::string_view tag_bytes = "bytes";
inline constexpr std::string_view tag_sparse = "eigen.sparse";

// Tags that only the built-in nodes may carry.
constexpr bool is_builtin_tag(std::string_view tag) noexcept {
  return tag == tag_list || tag == tag_complex || tag == tag_ndarray || tag == tag_bytes;
}
// A tag a user type may carry: not empty, UTF-8 (tags travel as str), not a
// built-in node's.
constexpr bool is_user_tag(std::string_view tag) noexcept {
  return !tag.empty() && detail::is_valid_utf8(tag) && !is_builtin_tag(tag);
}

// Inlined array data starts at a multiple of this within the header frame.
inline constexpr std::size_t max_inline_alignment = 8;

}  // namespace cannery::format
