#pragma once
// CANNERY_FIELDS: can a plain struct field by field, the C++ form of
// registering a class whose attribute dict is canned.
//
//   namespace physics {
//   struct Particle { Eigen::Vector3d pos; double mass; int id; };
//   CANNERY_FIELDS(Particle, pos, mass, id)
//   }
//
// Write it at namespace scope, in the struct's own namespace (it is found by
// argument-dependent lookup). The node is ["Particle", {"pos": ..., "mass":
// ..., "id": ...}]; the struct must be default-constructible. Fields missing
// on receipt are an error; extra fields are ignored, so a sender may add some.
// At most 64 fields (detail::max_fields); group more into nested structs.
//
// The tag on the wire is the type's name exactly as written in the macro,
// without its namespace: namespaces are C++'s, and other languages read the
// tag. So two structs of one name in different namespaces share a tag, which
// is what versions of one type want (v1::Reading and v2::Reading read each
// other). For unrelated types, or a tag other programs already use, give the
// tag yourself (choose a dotted name, "mylib.Point"):
//
//   CANNERY_FIELDS_TAGGED(Point, "geometry.Point", x, y)

#include <cstddef>
#include <string_view>
#include <tuple>

#include "cannery/canning/builtins/containers.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/detail/for_each.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery::detail {

template <class Struct, class Member>
struct Field {
  std::string_view name;
  Member Struct::*member;
};

template <class Struct, class... Members>
struct FieldList {
  std::string_view type_name;
  std::tuple<Field<Struct, Members>...> fields;
};

template <class Struct, class... Members>
constexpr FieldList<Struct, Members...> make_field_list(std::string_view type_name,
                                                        Field<Struct, Members>... fields) {
  return {type_name, {fields...}};
}

template <class T>
concept described = requires(const T* p) {
  cannery_fields(p);
};

// As many fields as nlohmann/json's field-list macros take.
inline constexpr std::size_t max_fields = 64;

}  // namespace cannery::detail

namespace cannery {

template <detail::described T>
struct canner<T> {
  static constexpr auto description = cannery_fields(static_cast<const T*>(nullptr));
  static constexpr std::string_view tag = description.type_name;

  // An rvalue struct hands its members over, as containers do.
  template <class Value>
  static void can(Writer& w, Value&& value) {
    w.dict(std::tuple_size_v<decltype(description.fields)>);
    std::apply(
        [&](const auto&... field) {
          ((w.key(field.name), w.write(detail::forward_element<Value>(value.*(field.member)))),
           ...);
        },
        description.fields);
  }

  static T uncan(const Node& n) {
    T value{};
    std::apply(
        [&](const auto&... field) {
          ((value.*(field.member) =
                uncan_field<std::remove_cvref_t<decltype(value.*(field.member))>>(n, field.name)),
           ...);
        },
        description.fields);
    return value;
  }

 private:
  template <class F>
  static F uncan_field(const Node& n, std::string_view name) {
    auto found = n.find(name);
    if (!found) {
      n.fail(errc::type_mismatch,
             "'" + std::string(tag) + "' arrived without its field '" + std::string(name) + "'");
    }
    return found->template as<F>();
  }
};

}  // namespace cannery

// --- Field-list macro (CANNERY_DETAIL_FOR_EACH: detail/for_each.hpp).
#define CANNERY_DETAIL_FIELD(type, name)                   \
  , ::cannery::detail::Field<type, decltype(type::name)> { \
#name, &type::name                                     \
  }

#define CANNERY_FIELDS(Type, ...) CANNERY_FIELDS_TAGGED(Type, #Type, __VA_ARGS__)

#define CANNERY_FIELDS_TAGGED(Type, tag, ...)                                                      \
  [[maybe_unused]] constexpr auto cannery_fields(const Type*) {                                    \
    constexpr auto list = ::cannery::detail::make_field_list<Type>(                                \
        tag CANNERY_DETAIL_FOR_EACH(CANNERY_DETAIL_FIELD, Type, __VA_ARGS__));                     \
    static_assert(std::tuple_size_v<decltype(list.fields)> <= ::cannery::detail::max_fields,       \
                  "CANNERY_FIELDS(" #Type                                                          \
                  ", ...) lists more than 64 fields, the most it takes: group some of them "       \
                  "into a nested struct with a CANNERY_FIELDS of its own");                        \
    static_assert(::cannery::format::is_user_tag(list.type_name),                                  \
                  "CANNERY_FIELDS_TAGGED(" #Type                                                   \
                  ", tag, ...): the tag is empty, not UTF-8 or built in (list, complex, ndarray, " \
                  "bytes); choose a dotted name such as \"mylib.Type\"");                          \
    return list;                                                                                   \
  }
