#pragma once
// Node: a read-only view of one value in a received header, with access to
// the object's buffer frames. What a canner's uncan() reads from. Every
// accessor checks the node's type and bounds and throws cannery::error.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/decode_budget.hpp"
#include "cannery/canning/error.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/options.hpp"

namespace cannery {

namespace detail {
// What every node of one received object shares.
struct ReadContext {
  // The header frame, for views of inlined bytes. A pointer, not a copy:
  // the frame outlives the parse, and copying it would touch its reference
  // count twice for every object read.
  const Buffer* header = nullptr;
  std::span<const Buffer> buffers;  // this object's buffer frames
  Limits limits;
  // The message's decode budget (Limits::decoded_bytes_per_byte); never null
  // in the contexts cannery makes.
  DecodeBudget* budget = nullptr;
  // Plain msgpack (plain_msgpack.hpp): arrays are lists, there are no tags.
  bool plain = false;
};
}  // namespace detail

class Node {
 public:
  enum class Kind { null, boolean, integer, floating, string, bytes, dict, tagged, array };

  Node(const msgpack::object& object, const detail::ReadContext& context) noexcept
      : object_(&object), context_(&context) {}

  Kind kind() const noexcept;
  // "null", "bool", "int", "float", "str", "bytes", "dict", "array", or the tag.
  std::string kind_name() const;

  bool is_null() const noexcept { return object_->type == msgpack::type::NIL; }
  bool to_bool() const;
  template <std::integral I>
  I to_integer() const;
  template <std::floating_point F>
  F to_floating() const;
  // Views into the received header: valid while the frames are.
  std::string_view to_string_view() const;
  Buffer to_bytes() const;
  // A str, or bytes (inline or out of band): a std::string that is not
  // UTF-8 travels as bytes. A view, valid while the frames are.
  std::string_view to_text_view() const;

  // Tagged nodes: [tag, payload].
  std::string_view tag() const;
  Node payload() const;
  // The payload, after checking that the tag is `expected`.
  Node expect_tag(std::string_view expected) const;

  // Raw arrays (inside payloads).
  std::size_t size() const;
  Node operator[](std::size_t index) const;
  // Checks that this is an array of exactly `expected` items; returns *this.
  const Node& expect_size(std::size_t expected) const;

  // Dicts: string keys in sent order.
  std::size_t dict_size() const;
  template <class F>
  void for_each_entry(F&& visit) const {
    require(msgpack::type::MAP, "dict");
    const auto& map = object_->via.map;
    for (std::uint32_t i = 0; i < map.size; ++i) {
      const auto& kv = map.ptr[i];
      if (kv.key.type != msgpack::type::STR)
        fail(errc::malformed_header, "dict key is not a string");
      visit(std::string_view(kv.key.via.str.ptr, kv.key.via.str.size), Node(kv.val, *context_));
    }
  }
  std::optional<Node> find(std::string_view key) const;

  // A data reference: inlined bin, or the index of one of the object's frames.
  Buffer data_ref() const;
  // An ndarray payload [dtype, shape, strides, data, offset], fully checked.
  NDArray to_ndarray() const;

  // Uncan this node as T with canner<T> (checking the tag when it has one).
  template <class T>
  T as() const;

  // Before allocating from a count or a shape that arrived, where the
  // allocation can outgrow the bytes that stand for it (count x bytes_each):
  // takes it from the message's decode budget, or throws limit_exceeded.
  // `what` names the items in the error ("items of a list"): a literal.
  void charge(std::size_t count, std::size_t bytes_each, std::string_view what) const;

  [[noreturn]] void fail(errc code, const std::string& what) const;
  const detail::ReadContext& context() const noexcept { return *context_; }

 private:
  void require(msgpack::type::object_type type, const char* expected) const;
  [[noreturn]] void fail_type(const char* expected) const;

  const msgpack::object* object_;
  const detail::ReadContext* context_;
};

template <std::integral I>
I Node::to_integer() const {
  if (object_->type == msgpack::type::POSITIVE_INTEGER) {
    std::uint64_t v = object_->via.u64;
    if (v > static_cast<std::uint64_t>(std::numeric_limits<I>::max())) {
      fail(errc::value_out_of_range,
           "integer " + std::to_string(v) + " does not fit the requested integer type");
    }
    return static_cast<I>(v);
  }
  if (object_->type == msgpack::type::NEGATIVE_INTEGER) {
    std::int64_t v = object_->via.i64;
    if constexpr (std::is_unsigned_v<I>) {
      fail(errc::value_out_of_range,
           "integer " + std::to_string(v) + " is negative; the requested type is unsigned");
    } else {
      if (v < static_cast<std::int64_t>(std::numeric_limits<I>::min())) {
        fail(errc::value_out_of_range,
             "integer " + std::to_string(v) + " does not fit the requested integer type");
      }
      return static_cast<I>(v);
    }
  }
  fail_type("int");
}

template <std::floating_point F>
F Node::to_floating() const {
  switch (object_->type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return static_cast<F>(object_->via.f64);
    case msgpack::type::POSITIVE_INTEGER:
      return static_cast<F>(object_->via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return static_cast<F>(object_->via.i64);
    default:
      fail_type("float");
  }
}

template <class T>
T Node::as() const {
  static_assert(uncannable<T>, CANNERY_DETAIL_NOT_UNCANNABLE("requested type"));
  if constexpr (detail::tagged_canner<T>) {
    return canner<T>::uncan(expect_tag(canner<T>::tag));
  } else {
    return canner<T>::uncan(*this);
  }
}

}  // namespace cannery
