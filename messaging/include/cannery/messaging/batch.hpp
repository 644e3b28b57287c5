#pragma once
// Several protocol messages carried by one (docs/protocol.md, "Batches"):
// with many small tasks queued for one engine, one envelope, one signature and
// one wake-up of each thread on the way then serve all of them.
//
// A batch's content holds a list of parts; each part is the content of one
// message plus "frames", how many of the batch's buffers are its own, and,
// in a batch_request, "type", its message type. A batch_reply holds only
// apply_reply parts, which therefore do not name it: every task's reply is
// that much shorter to write, sign and read. The parts' buffers follow one
// another, in order.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/messaging/codec.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery {

class BatchBuilder {
 public:
  template <protocol::MessageType T>
  void add(const T& part, std::span<const Buffer> buffers) {
    static_assert(
        std::apply(
            [](const auto&... f) { return ((f.name != "type" && f.name != "frames") && ...); },
            T::fields()),
        "a message in a batch cannot have a field named 'type' or 'frames': the batch's own");
    add(std::is_same_v<T, protocol::ApplyReply> ? std::string_view{} : T::type,
        protocol::encode(part), buffers);
  }
  std::size_t parts() const noexcept { return parts_.size(); }
  std::size_t frames() const noexcept { return buffers_.size(); }
  // The batch's content ({list_field: [parts]}) and buffers; empties the builder.
  Object::Dict take_content(std::string_view list_field);
  std::vector<Buffer> take_buffers() { return std::exchange(buffers_, {}); }

 private:
  // An empty `type` is not written (an apply_reply).
  void add(std::string_view type, Object::Dict content, std::span<const Buffer> buffers);

  Object::List parts_;
  std::vector<Buffer> buffers_;
};

struct BatchPart {
  std::string type;           // the part's message type (apply_reply in a batch_reply)
  Object content;             // still holding "type" and "frames": decoding ignores them
  std::span<Buffer> buffers;  // into the batch's buffers: the part's to move out
};

// Splits a received batch, checking every count against what arrived before
// taking anything: throws cannery::error(malformed_message) when `list_field`
// is not a list of dicts each with a non-negative integer "frames" (and, in
// a batch_request, a string "type"), or when the counts do not add up to
// buffers.size(). Moves the parts out of `content`.
std::vector<BatchPart> split_batch(Object& content, std::string_view list_field,
                                   std::span<Buffer> buffers);

}  // namespace cannery
