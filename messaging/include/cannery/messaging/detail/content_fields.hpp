#pragma once
// Reading fields of a received message's content dict (and values inside
// it). The content comes from the network: every field may be missing or of
// the wrong type, and the callers decide what that means.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/canning/error.hpp"
#include "cannery/canning/object.hpp"

namespace cannery::detail {

inline std::optional<std::string> string_field(const Object& content, std::string_view key) {
  const Object* f = content.find(key);
  if (f == nullptr || f->kind() != Object::Kind::string) return std::nullopt;
  return f->to_string();
}

// Nullopt unless an integer that fits in int64.
inline std::optional<std::int64_t> int_value(const Object& value) {
  if (value.kind() != Object::Kind::integer) return std::nullopt;
  try {
    return value.to_int64();
  } catch (const error&) {
    return std::nullopt;  // beyond int64
  }
}

inline std::optional<std::int64_t> int_field(const Object& content, std::string_view key) {
  const Object* f = content.find(key);
  if (f == nullptr) return std::nullopt;
  return int_value(*f);
}

// A list of strings; nullopt when any item is not a string.
inline std::optional<std::vector<std::string>> strings_field(const Object& content,
                                                             std::string_view key) {
  const Object* f = content.find(key);
  if (f == nullptr || f->kind() != Object::Kind::list) return std::nullopt;
  std::vector<std::string> out;
  for (const Object& item : f->to_list()) {
    if (item.kind() != Object::Kind::string) return std::nullopt;
    out.push_back(item.to_string());
  }
  return out;
}

}  // namespace cannery::detail
