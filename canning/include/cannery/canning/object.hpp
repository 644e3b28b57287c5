#pragma once
// Object: a dynamic value for receivers that do not know the static type.
// A tree with value semantics (it cannot contain itself). Arrays and bytes
// inside it still view the received frames.
//
//   auto [obj, rest] = cannery::deserialize_object(frames);
//   if (obj.kind() == cannery::Object::Kind::ndarray) { ... obj.as<Eigen::MatrixXd>() ... }

#include <any>
#include <complex>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/registry.hpp"
#include "cannery/canning/serialize.hpp"

namespace cannery {

class Object {
 public:
  using List = std::vector<Object>;
  using Dict = std::map<std::string, Object, std::less<>>;
  // A value of a registered extension type (see register_type<T>()).
  struct Extension {
    const detail::TypeEntry* entry;
    std::any value;
  };
  enum class Kind {
    null,
    boolean,
    integer,
    floating,
    complex,
    string,
    bytes,
    list,
    dict,
    ndarray,
    extension
  };

  Object() = default;
  Object(const Object&) = default;
  Object(Object&&) = default;
  Object& operator=(const Object&) = default;
  Object& operator=(Object&&) = default;
  // Iterative: a long chain of nested lists or dicts is destroyed without one
  // stack frame per level.
  ~Object();
  Object(std::nullptr_t) {}
  Object(bool value) : value_(value) {}
  template <std::integral I>
  requires(!std::same_as<I, bool> && sizeof(I) <= 8) Object(I value) {
    if constexpr (std::is_signed_v<I>) {
      value_ = static_cast<std::int64_t>(value);
    } else {
      value_ = static_cast<std::uint64_t>(value);
    }
  }
  Object(double value) : value_(value) {}
  Object(std::complex<double> value) : value_(value) {}
  Object(std::string value) : value_(std::move(value)) {}
  Object(const char* value) : value_(std::string(value)) {}
  Object(Buffer bytes) : value_(std::move(bytes)) {}
  Object(List items) : value_(std::move(items)) {}
  Object(Dict entries) : value_(std::move(entries)) {}
  Object(NDArray array) : value_(std::move(array)) {}
  Object(Extension extension) : value_(std::move(extension)) {}
  // A registered extension value: Object::make_extension(Particle{...}).
  template <class T>
  static Object make_extension(T value) {
    return Object(Extension{&register_type<T>(), std::any(std::move(value))});
  }

  Kind kind() const noexcept {
    // Two alternatives (int64, uint64) share Kind::integer.
    std::size_t i = value_.index();
    return static_cast<Kind>(i <= 2 ? i : i - 1);
  }
  // "null", "bool", "int", "float", "complex", "str", "bytes", "list", "dict",
  // "ndarray", or an extension's tag.
  std::string kind_name() const;
  bool is_null() const noexcept { return kind() == Kind::null; }

  // Checked access to the held value; throws type_mismatch naming both kinds.
  bool to_bool() const;
  std::int64_t to_int64() const;
  std::uint64_t to_uint64() const;  // value_out_of_range when negative
  double to_double() const;
  const std::string& to_string() const;
  const Buffer& to_bytes() const;
  const List& to_list() const;
  const Dict& to_dict() const;
  List& to_list();
  Dict& to_dict();
  const NDArray& to_ndarray() const;
  const Extension& to_extension() const;

  // Dict entry or list item; throws type_mismatch / shape_mismatch.
  const Object& at(std::string_view key) const;
  // The dict entry, or null when this is not a dict or has no such key: for
  // optional fields of received dicts, where absence is not an error.
  const Object* find(std::string_view key) const noexcept;
  const Object& at(std::size_t index) const;

  // Convert to any uncannable T, with the same rules as typed uncanning
  // (so obj.as<Eigen::MatrixXd>() works on an ndarray). Arrays stay views of
  // the data this Object holds.
  template <class T>
  T as() const;

 private:
  friend struct canner<Object>;
  friend Buffer pack_plain(const Object& value);
  // The order of alternatives follows Kind, except that integers hold two.
  std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double, std::complex<double>,
               std::string, Buffer, List, Dict, NDArray, Extension>
      value_;
};

template <>
struct canner<Object> {
  static void can(Writer& w, const Object& value);
  static Object uncan(const Node& n);
};

template <class T>
T Object::as() const {
  static_assert(
      !std::is_same_v<T, std::string_view>,
      "Object::as<std::string_view>() would dangle: use as<std::string>() or to_string()");
  if constexpr (std::is_same_v<T, Object>) {
    return *this;
  } else {
    if (const auto* ext = std::get_if<Extension>(&value_)) {
      if (const T* held = std::any_cast<T>(&ext->value)) return *held;
    }
    // Everything out of band (threshold 0), so only the small header is
    // re-encoded: the bytes of arrays are shared, not copied.
    SerializeOptions options;
    options.buffer_threshold = 0;
    std::vector<Buffer> frames = serialize_object(*this, options);
    return deserialize_object<T>(frames).value;
  }
}

}  // namespace cannery
