#include "cannery/messaging/codec.hpp"

namespace cannery::protocol::detail {

std::string Where::path() const {
  std::string above = parent != nullptr ? parent->path() : std::string();
  if (index != no_index) return above + "[" + std::to_string(index) + "]";
  if (name.empty()) return above;
  return above.empty() ? std::string(name) : above + "." + std::string(name);
}

void refuse(const Where& where, const std::string& what) {
  const std::string path = where.path();
  const std::string place = path.empty() ? "content" : "field '" + path + "'";
  throw error(errc::malformed_message,
              std::string(where.message) + ": " + place + " " + what +
                  " (the peer does not speak this protocol: see docs/protocol.md)");
}

void wrong_kind(const Where& where, const Object& value, std::string_view expected) {
  refuse(where, "is a " + value.kind_name() + ", not a " + std::string(expected));
}

void out_of_bounds(const Where& where, const std::string& value, std::int64_t min,
                   std::uint64_t max) {
  refuse(where, "is " + value + ", outside " + std::to_string(min) + ".." + std::to_string(max));
}

void not_one_of(const Where& where, const std::string& value,
                std::span<const std::string_view> allowed) {
  std::string names;
  for (std::string_view name : allowed)
    names += (names.empty() ? "'" : ", '") + std::string(name) + "'";
  refuse(where, "is '" + value.substr(0, 64) + "', not one of " + names);
}

std::uint64_t uint_value(const Object& value, const Where& where) {
  if (value.kind() != Object::Kind::integer) wrong_kind(where, value, "int");
  try {
    return value.to_uint64();
  } catch (const error&) {
    refuse(where, "is negative");
  }
}

std::int64_t int_value(const Object& value, const Where& where) {
  if (value.kind() != Object::Kind::integer) wrong_kind(where, value, "int");
  try {
    return value.to_int64();
  } catch (const error&) {
    refuse(where, "is above 2^63 - 1");
  }
}

}  // namespace cannery::protocol::detail
