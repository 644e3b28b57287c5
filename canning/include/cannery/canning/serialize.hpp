#pragma once
// can / uncan and serialize_object / deserialize_object: the entry points.
//
// One object = one header frame + its buffer frames. A message of several
// objects is their frames concatenated; deserialize_object consumes exactly
// one object's frames and hands back the rest, so a receiver loops:
//
//   std::span<const cannery::Buffer> rest = frames;
//   while (!rest.empty()) {
//     auto [object, remaining] = cannery::deserialize_object(rest);
//     rest = remaining;
//   }

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/detail/untrusted_msgpack.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/options.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

class Object;

// A canned value: its tag (the canner's tag, or the native kind: "int",
// "float", "str", "bytes", "bool", "null", "dict"), the header frame and the
// buffer frames that stayed where they were.
struct CannedObject {
  std::string tag;
  Buffer header;
  std::vector<Buffer> buffers;

  std::size_t frame_count() const noexcept { return 1 + buffers.size(); }
  // Header frame first, then the buffers (copies Buffers, not bytes).
  std::vector<Buffer> frames() const&;
  std::vector<Buffer> frames() &&;
  // Appends this object's frames to a message under construction.
  void append_to(std::vector<Buffer>& message) const&;
  // The same, moving the frames (no reference counts touched).
  void append_to(std::vector<Buffer>& message) &&;
};

template <class T>
CannedObject can(T&& value, const SerializeOptions& options = {}) {
  static_assert(cannable<std::remove_cvref_t<T>>,
                CANNERY_DETAIL_NOT_CANNABLE("type passed to cannery::can"));
  Writer writer(options);
  writer.write(std::forward<T>(value));
  auto result = std::move(writer).finish();
  return {std::move(result.tag), std::move(result.header), std::move(result.buffers)};
}

template <class T>
std::vector<Buffer> serialize_object(T&& value, const SerializeOptions& options = {}) {
  static_assert(cannable<std::remove_cvref_t<T>>,
                CANNERY_DETAIL_NOT_CANNABLE("type passed to cannery::serialize_object"));
  return can(std::forward<T>(value), options).frames();
}

namespace detail {

// A header frame parsed and checked: format version, buffer count against
// the frames that arrived, nesting depth and a bound on allocation. Holds the
// msgpack tree that Nodes view.
class ParsedHeader {
 public:
  // To decode, the object's bytes are added to the decode budget that
  // `limits` links to, or to one of its own; a peek decodes nothing.
  enum class Purpose { decode, peek };
  ParsedHeader(std::span<const Buffer> frames, const Limits& limits,
               Purpose purpose = Purpose::decode);
  ~ParsedHeader();
  ParsedHeader(const ParsedHeader&) = delete;
  ParsedHeader& operator=(const ParsedHeader&) = delete;

  Node root() const noexcept { return Node(*root_, context_); }
  // Frames after this object's.
  std::span<const Buffer> remaining() const noexcept { return remaining_; }

 private:
  PooledZone zone_;
  const msgpack::object* root_ = nullptr;
  DecodeBudget own_budget_;  // when `limits` links to none
  ReadContext context_;
  std::span<const Buffer> remaining_;
};

}  // namespace detail

template <class T>
struct Deserialized {
  T value;
  std::span<const Buffer> remaining;
};

// Uncan one object from the front of `frames` as T.
template <class T>
Deserialized<T> deserialize_object(std::span<const Buffer> frames, const Limits& limits = {}) {
  detail::ParsedHeader parsed(frames, limits);
  T value = parsed.root().as<T>();
  return {std::move(value), parsed.remaining()};
}

// Uncan one object as a dynamic Object (object.hpp).
Deserialized<Object> deserialize_object(std::span<const Buffer> frames, const Limits& limits = {});

// The first object of `frames` looked at without uncanning it: its tag (as
// CannedObject::tag names it: the canner's tag, or the native kind such as
// "int", "str", "dict"), its own frames and the frames after them. The header
// is checked exactly as deserialize_object checks it. For receivers that
// route an object by its tag, or keep its frames as they are (a cache).
struct PeekedObject {
  std::string tag;
  std::span<const Buffer> frames;
  std::span<const Buffer> remaining;
};
PeekedObject peek_object(std::span<const Buffer> frames, const Limits& limits = {});

template <class T>
T uncan(const CannedObject& canned, const Limits& limits = {}) {
  std::vector<Buffer> frames = canned.frames();
  return deserialize_object<T>(frames, limits).value;
}

}  // namespace cannery
