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

#include <string_view>
#include <tuple>

#include "cannery/canning/builtins/containers.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/detail/for_each.hpp"
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

#define CANNERY_FIELDS(Type, ...)                                                \
  [[maybe_unused]] constexpr auto cannery_fields(const Type*) {                  \
    return ::cannery::detail::make_field_list<Type>(                             \
        #Type CANNERY_DETAIL_FOR_EACH(CANNERY_DETAIL_FIELD, Type, __VA_ARGS__)); \
  }
