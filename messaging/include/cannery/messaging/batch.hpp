#pragma once
// Several protocol messages carried by one (protocol.hpp, "Batches"): with
// many small tasks queued for one engine, one envelope, one signature and one
// wake-up of each thread on the way then serve all of them.
//
// A batch's content holds a list of parts; each part is the content of one
// message plus "frames", how many of the batch's buffers are its own. The
// parts' buffers follow one another, in order.

#include <cstddef>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"

namespace cannery {

class BatchBuilder {
 public:
  void add(Object::Dict content, std::span<const Buffer> buffers);
  std::size_t parts() const noexcept { return parts_.size(); }
  std::size_t frames() const noexcept { return buffers_.size(); }
  // The batch's content ({list_field: [parts]}) and buffers; empties the builder.
  Object::Dict take_content(std::string_view list_field);
  std::vector<Buffer> take_buffers() { return std::exchange(buffers_, {}); }

 private:
  Object::List parts_;
  std::vector<Buffer> buffers_;
};

struct BatchPart {
  Object content;             // without "frames"
  std::span<Buffer> buffers;  // into the batch's buffers: the part's to move out
};

// Splits a received batch, checking every count against what arrived before
// taking anything: throws cannery::error(malformed_message) when `list_field`
// is not a list of dicts each with a non-negative integer "frames", or when
// the counts do not add up to buffers.size(). Moves the parts out of `content`.
std::vector<BatchPart> split_batch(Object& content, std::string_view list_field,
                                   std::span<Buffer> buffers);

}  // namespace cannery
