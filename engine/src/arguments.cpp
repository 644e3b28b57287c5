#include "cannery/engine/detail/arguments.hpp"

#include "cannery/messaging/protocol.hpp"
#include "cannery/messaging/shared_memory.hpp"

namespace cannery::detail {

std::span<const Buffer> ArgumentReader::next() {
  index_ = call_.args_read();
  std::span<const Buffer> frames = call_.next_arg_frames();
  if (tag_of(frames) != canner<protocol::RefArgument>::tag) return frames;
  const auto ref = uncan<protocol::RefArgument>(frames);
  ObjectCache::Frames cached = cache_ != nullptr ? cache_->find(ref.id) : nullptr;
  if (!cached && cache_ != nullptr) {
    if (std::optional<std::string> why = cache_->why_lost(ref.id))
      fail(errc::object_lost, "the object of ref " + std::to_string(ref.id) + " is lost: " + *why);
  }
  if (!cached) {
    fail(errc::invalid_argument,
         "no cached object with ref " + std::to_string(ref.id) +
             " here: it was released, or put on another engine; put it again before using it");
  }
  if (auto segment = damaged_segment(*cached)) {
    fail(errc::io_error, "the cached object of ref " + std::to_string(ref.id) +
                             " lived in shared memory segment " + *segment +
                             ", which another process truncated: its data is lost; put it again");
  }
  pinned_.push_back(cached);
  return *cached;
}

std::string ArgumentReader::tag_of(std::span<const Buffer> frames) const {
  try {
    return peek_object(frames, call_.limits()).tag;
  } catch (const error& e) {
    throw error(e.code(), where() + e.message());
  }
}

void ArgumentReader::fail(errc code, const std::string& what) const {
  throw error(code, where() + what);
}

std::string ArgumentReader::where() const {
  return "argument " + std::to_string(index_) + " of '" + call_.function() + "': ";
}

}  // namespace cannery::detail
