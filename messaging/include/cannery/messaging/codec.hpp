#pragma once
// The protocol's one codec: every message type (messages.hpp) is a struct
// that lists its fields once, and encode / decode read that list.
//
//   struct PullRequest {
//     static constexpr std::string_view type = "pull_request";
//     std::uint64_t task = 0;
//     std::string name;
//     static constexpr auto fields() {
//       return std::tuple{field("task", &PullRequest::task), field("name", &PullRequest::name)};
//     }
//   };
//
// A field is required unless its member is a std::optional. Integer fields
// may carry bounds (field(name, member, min, max)); for strings and lists the
// bounds limit their length. Decoding refuses a missing field, a value of the
// wrong type or out of its bounds with cannery::error(malformed_message)
// naming the message type and the field ("registration_reply: field
// 'heartbeat_ms' is 0, outside 1..3600000"). Fields it does not know are
// ignored: a peer of a newer minor version may add some (docs/protocol.md).
//
// Field values: bool, std::int64_t, std::uint64_t, int, std::string,
// std::vector of a field value, structs that list their own fields (sent as
// dicts), and enums that name their values (sent as those strings):
//
//   enum class Status { ok, error };
//   constexpr std::array<std::string_view, 2> names_of(Status) {
//     return {"ok", "error"};
//   }

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cannery/canning/error.hpp"
#include "cannery/canning/object.hpp"

namespace cannery::protocol {

template <class T, class V>
struct Field {
  std::string_view name;
  V T::*member;
  std::int64_t min = std::numeric_limits<std::int64_t>::min();
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
};

template <class T, class V>
constexpr Field<T, V> field(std::string_view name, V T::*member) {
  return {name, member};
}

template <class T, class V>
constexpr Field<T, V> field(std::string_view name, V T::*member, std::int64_t min,
                            std::uint64_t max) {
  return {name, member, min, max};
}

// A struct whose fields the codec can read and write.
template <class T>
concept Record = requires {
  T::fields();
};

// An enum sent as one of its names (names_of, found by argument-dependent
// lookup, lists them in the enum's order).
template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E e) {
  names_of(e);
};

// A record that is a whole message: it also has its msg_type, `type`.
template <class T>
concept MessageType = Record<T> && requires {
  { T::type } -> std::convertible_to<std::string_view>;
};

namespace detail {

// Where a value sits, for error texts: the message type and the field's path
// ("shared_memory[0].frames[2]"). The path is spelt out only when an error
// needs it: decoding a valid message builds no strings. A Where refers to
// the one it was made from, which must outlive it (they live on the stack of
// the decoding calls).
struct Where {
  static constexpr std::size_t no_index = static_cast<std::size_t>(-1);
  explicit Where(std::string_view message_type, const Where* above = nullptr,
                 std::string_view field = {}, std::size_t item = no_index)
      : message(message_type), parent(above), name(field), index(item) {}
  std::string_view message;
  const Where* parent = nullptr;
  std::string_view name;  // a field's name, or empty for a list item
  std::size_t index = no_index;
  Where at(std::string_view field) const { return Where(message, this, field); }
  Where at(std::size_t item) const { return Where(message, this, {}, item); }
  std::string path() const;
};

[[noreturn]] void refuse(const Where& where, const std::string& what);
[[noreturn]] void wrong_kind(const Where& where, const Object& value, std::string_view expected);
[[noreturn]] void out_of_bounds(const Where& where, const std::string& value, std::int64_t min,
                                std::uint64_t max);

[[noreturn]] void not_one_of(const Where& where, const std::string& value,
                             std::span<const std::string_view> allowed);

std::uint64_t uint_value(const Object& value, const Where& where);
std::int64_t int_value(const Object& value, const Where& where);

template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class V>
Object encode_value(const V& value);

template <class V>
V decode_value(const Object& value, const Where& where);

template <Record T>
Object::Dict encode_record(const T& record) {
  Object::Dict out;
  std::apply(
      [&](const auto&... f) {
        [[maybe_unused]] auto put = [&](const auto& one) {
          const auto& value = record.*(one.member);
          using V = std::remove_cvref_t<decltype(value)>;
          if constexpr (is_optional<V>::value) {
            if (value) out.emplace(std::string(one.name), encode_value(*value));
          } else {
            out.emplace(std::string(one.name), encode_value(value));
          }
        };
        (put(f), ...);
      },
      T::fields());
  return out;
}

// A string's or list's length is checked on what arrived, before anything
// is copied out of it (decode_value refuses any other kind); a number once
// read.
template <class V>
void check_length(const Object& received, std::int64_t min, std::uint64_t max, const Where& where) {
  if constexpr (std::is_same_v<V, std::string> || is_vector<V>::value) {
    std::size_t n = 0;
    if (received.kind() == Object::Kind::string) {
      n = received.to_string().size();
    } else if (received.kind() == Object::Kind::list) {
      n = received.to_list().size();
    } else {
      return;
    }
    if (std::cmp_less(n, min) || std::cmp_greater(n, max))
      out_of_bounds(where, "of length " + std::to_string(n), min, max);
  }
}

template <class V>
void check_bounds(const V& value, std::int64_t min, std::uint64_t max, const Where& where) {
  if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
    if (std::cmp_less(value, min) || std::cmp_greater(value, max))
      out_of_bounds(where, std::to_string(value), min, max);
  }
}

// Reads one field's received value into `member`, bounds checked.
template <class V>
void decode_field(const Object& received, V& member, std::int64_t min, std::uint64_t max,
                  const Where& where) {
  check_length<V>(received, min, max, where);
  member = decode_value<V>(received, where);
  check_bounds(member, min, max, where);
}

// Reads one received value into the member `f` names.
template <Record T, class F>
void decode_member(const F& f, const Object& received, T& out, const Where& where) {
  auto& member = out.*(f.member);
  using V = std::remove_cvref_t<decltype(member)>;
  if constexpr (is_optional<V>::value) {
    decode_field(received, member.emplace(), f.min, f.max, where.at(f.name));
  } else {
    decode_field(received, member, f.min, f.max, where.at(f.name));
  }
}

template <Record T, std::size_t... I>
void decode_fields(const Object::Dict& received, T& out, const Where& where,
                   std::index_sequence<I...>) {
  [[maybe_unused]] constexpr auto fields = T::fields();
  [[maybe_unused]] bool seen[sizeof...(I) + 1] = {};
  // One walk over what arrived, each key compared with the names (by length
  // first), rather than one search of the dict per field: messages are
  // decoded on every task's way in and out.
  for (const auto& [key, value] : received) {
    [[maybe_unused]] const bool known =
        ((key == std::get<I>(fields).name &&
          (decode_member(std::get<I>(fields), value, out, where), seen[I] = true)) ||
         ...);
  }
  [[maybe_unused]] auto require = [&](const auto& f, bool present) {
    using V = std::remove_cvref_t<decltype(out.*(f.member))>;
    if constexpr (!is_optional<V>::value) {
      if (!present) refuse(where.at(f.name), "is missing");
    }
  };
  (require(std::get<I>(fields), seen[I]), ...);
}

template <Record T>
T decode_record(const Object& value, const Where& where) {
  if (value.kind() != Object::Kind::dict) wrong_kind(where, value, "dict");
  T out{};
  decode_fields(value.to_dict(), out, where,
                std::make_index_sequence<std::tuple_size_v<decltype(T::fields())>>{});
  return out;
}

template <class V>
Object encode_value(const V& value) {
  if constexpr (Record<V>) {
    return Object(encode_record(value));
  } else if constexpr (NamedEnum<V>) {
    return Object(std::string(names_of(value)[static_cast<std::size_t>(value)]));
  } else if constexpr (is_vector<V>::value) {
    Object::List list;
    list.reserve(value.size());
    for (const auto& item : value)
      list.push_back(encode_value(item));
    return Object(std::move(list));
  } else {
    return Object(value);
  }
}

template <class V>
V decode_value(const Object& value, const Where& where) {
  if constexpr (Record<V>) {
    return decode_record<V>(value, where);
  } else if constexpr (is_vector<V>::value) {
    if (value.kind() != Object::Kind::list) wrong_kind(where, value, "list");
    const Object::List& list = value.to_list();
    V out;
    out.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i)
      out.push_back(decode_value<typename V::value_type>(list[i], where.at(i)));
    return out;
  } else if constexpr (NamedEnum<V>) {
    if (value.kind() != Object::Kind::string) wrong_kind(where, value, "str");
    const auto names = names_of(V{});
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == value.to_string()) return static_cast<V>(i);
    }
    not_one_of(where, value.to_string(), names);
  } else if constexpr (std::is_same_v<V, bool>) {
    if (value.kind() != Object::Kind::boolean) wrong_kind(where, value, "bool");
    return value.to_bool();
  } else if constexpr (std::is_same_v<V, std::string>) {
    if (value.kind() != Object::Kind::string) wrong_kind(where, value, "str");
    return value.to_string();
  } else if constexpr (std::is_same_v<V, std::uint64_t>) {
    return uint_value(value, where);
  } else if constexpr (std::is_integral_v<V> && std::is_signed_v<V>) {
    const std::int64_t n = int_value(value, where);
    if (!std::in_range<V>(n)) {
      out_of_bounds(where, std::to_string(n), std::numeric_limits<V>::min(),
                    static_cast<std::uint64_t>(std::numeric_limits<V>::max()));
    }
    return static_cast<V>(n);
  } else {
    static_assert(sizeof(V) == 0, "this field type has no protocol encoding (see codec.hpp)");
  }
}

}  // namespace detail

// A message's content, ready for Session::message(T::type, ...).
template <Record T>
Object::Dict encode(const T& message) {
  return detail::encode_record(message);
}

// Reads a received content dict as T; throws cannery::error(malformed_message)
// naming T::type and the field when it does not fit.
template <MessageType T>
T decode(const Object& content) {
  return detail::decode_record<T>(content, detail::Where{T::type});
}

// A record that is part of a larger message (a batch's part), for error texts
// naming both.
template <Record T>
T decode(const Object& content, std::string_view message_type) {
  return detail::decode_record<T>(content, detail::Where{message_type});
}

}  // namespace cannery::protocol
