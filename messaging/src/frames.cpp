#include "cannery/messaging/frames.hpp"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cannery/canning/error.hpp"

namespace cannery {
namespace {

// What keeps a zero-copy frame's bytes alive while libzmq holds them. It is
// made on the sending thread and destroyed on libzmq's I/O thread; the
// hand-over goes through libzmq's queues, whose synchronization
// ThreadSanitizer cannot see (libzmq is not instrumented). The release/acquire
// pair of `published` states it in our own code (plain moves on x86), so the
// sanitizer still checks everything else done to the owner.
struct ZeroCopyOwner {
  explicit ZeroCopyOwner(std::shared_ptr<const void> o) : owner(std::move(o)) {
    published.store(true, std::memory_order_release);
  }
  std::shared_ptr<const void> owner;
  std::atomic<bool> published{false};
};

// libzmq calls this on its I/O thread when it no longer needs the bytes.
void release_owner(void* /*data*/, void* hint) noexcept {
  auto* holder = static_cast<ZeroCopyOwner*>(hint);
  [[maybe_unused]] const bool published = holder->published.load(std::memory_order_acquire);
  delete holder;
}

[[noreturn]] void socket_failure(const zmq::error_t& e, const char* doing) {
  throw error(errc::io_error, std::string(doing) + " failed: " + e.what());
}

// Element views need aligned data; libzmq may hand small frames at any
// offset inside its receive buffer. Such frames are small, so copying them
// into fresh (aligned) memory is cheap.
constexpr std::uintptr_t required_alignment = 8;

bool misaligned(const Buffer& frame) noexcept {
  return reinterpret_cast<std::uintptr_t>(frame.data()) % required_alignment != 0;
}

}  // namespace

FrameStats& frame_stats() noexcept {
  static FrameStats stats;
  return stats;
}

Buffer aligned_for_views(Buffer frame) {
  if (!misaligned(frame)) return frame;
  frame_stats().realigned_frames.fetch_add(1, std::memory_order_relaxed);
  return Buffer::copy_of(frame.data(), frame.size());
}

std::vector<Buffer> aligned_for_views(std::vector<Buffer>&& frames) {
  auto rounded = [](std::size_t size) {
    return (size + required_alignment - 1) / required_alignment * required_alignment;
  };
  std::size_t copies = 0, block_size = 0;
  for (const Buffer& frame : frames) {
    if (!misaligned(frame)) continue;
    ++copies;
    block_size += rounded(frame.size());
  }
  if (copies == 0) return std::move(frames);
  frame_stats().realigned_frames.fetch_add(copies, std::memory_order_relaxed);
  // One allocation for all of a message's misaligned frames.
  Buffer block = Buffer::allocate(block_size, [&](std::byte* out) {
    for (const Buffer& frame : frames) {
      if (!misaligned(frame)) continue;
      std::memcpy(out, frame.data(), frame.size());
      out += rounded(frame.size());
    }
  });
  std::size_t offset = 0;
  for (Buffer& frame : frames) {
    if (!misaligned(frame)) continue;
    const std::size_t size = frame.size();
    frame = block.slice(offset, size);
    offset += rounded(size);
  }
  return std::move(frames);
}

namespace {

// What to_zmq_message did, tallied by the caller and added to frame_stats()
// once per message, when the tally goes: the counters are shared by every
// thread that sends.
struct FrameTally {
  std::uint64_t zero_copy_frames = 0;
  std::uint64_t copied_frames = 0;
  std::uint64_t copied_bytes = 0;

  FrameTally() = default;
  FrameTally(const FrameTally&) = delete;
  FrameTally& operator=(const FrameTally&) = delete;
  ~FrameTally() {
    FrameStats& stats = frame_stats();
    if (zero_copy_frames != 0)
      stats.zero_copy_frames.fetch_add(zero_copy_frames, std::memory_order_relaxed);
    if (copied_frames != 0) {
      stats.copied_frames.fetch_add(copied_frames, std::memory_order_relaxed);
      stats.copied_bytes.fetch_add(copied_bytes, std::memory_order_relaxed);
    }
  }
};

// Borrowed frames a blocking send handed to libzmq as they are: the send
// waits until libzmq has released every one (its free callback runs on the
// I/O thread once the bytes are written out, or the message is dropped).
class BorrowedFrames {
 public:
  BorrowedFrames() = default;
  BorrowedFrames(const BorrowedFrames&) = delete;
  BorrowedFrames& operator=(const BorrowedFrames&) = delete;
  ~BorrowedFrames() { wait(); }

  zmq::message_t lend(const Buffer& buffer) {
    {
      std::lock_guard lock(mutex_);
      ++held_;
    }
    // This object reaches libzmq's I/O thread through libzmq's queues, which
    // ThreadSanitizer cannot see: the release/acquire pair on `published_`
    // states the hand-over in our own code (as ZeroCopyOwner does).
    published_.store(true, std::memory_order_release);
    return zmq::message_t(const_cast<std::byte*>(buffer.data()), buffer.size(), release, this);
  }
  void wait() {
    std::unique_lock lock(mutex_);
    released_.wait(lock, [&] { return held_ == 0; });
  }

 private:
  static void release(void* /*data*/, void* hint) noexcept {
    auto* self = static_cast<BorrowedFrames*>(hint);
    [[maybe_unused]] const bool published = self->published_.load(std::memory_order_acquire);
    std::lock_guard lock(self->mutex_);
    if (--self->held_ == 0) self->released_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable released_;
  std::size_t held_ = 0;
  std::atomic<bool> published_{false};
};

// `borrowed`: where a borrowed frame above the threshold may be lent rather
// than copied (a blocking send), or null.
zmq::message_t tallied_zmq_message(const Buffer& buffer, const FrameOptions& options,
                                   FrameTally& tally, BorrowedFrames* borrowed = nullptr) {
  if (buffer.size() > options.copy_threshold && !buffer.is_borrowed()) {
    ++tally.zero_copy_frames;
    auto* owner = new ZeroCopyOwner(buffer.owner());
    // libzmq never writes to the data it is given; its API is just not const.
    return zmq::message_t(const_cast<std::byte*>(buffer.data()), buffer.size(), release_owner,
                          owner);
  }
  if (buffer.size() > options.copy_threshold && borrowed != nullptr) {
    ++tally.zero_copy_frames;
    return borrowed->lend(buffer);
  }
  ++tally.copied_frames;
  tally.copied_bytes += buffer.size();
  return zmq::message_t(buffer.data(), buffer.size());
}

}  // namespace

zmq::message_t to_zmq_message(const Buffer& buffer, const FrameOptions& options) {
  FrameTally tally;
  return tallied_zmq_message(buffer, options, tally);
}

Buffer from_zmq_message(zmq::message_t&& message) {
  auto owner = std::make_shared<zmq::message_t>(std::move(message));
  return aligned_for_views(Buffer(owner->data(), owner->size(), owner));
}

bool send_frames(zmq::socket_ref socket, std::span<const Buffer> frames,
                 const FrameOptions& options, zmq::send_flags flags) {
  const std::span<const Buffer> parts[] = {frames};
  return send_frames(socket, parts, options, flags);
}

bool send_frames(zmq::socket_ref socket, std::span<const std::span<const Buffer>> parts,
                 const FrameOptions& options, zmq::send_flags flags) {
  std::size_t left = 0;  // frames still to send
  for (std::span<const Buffer> part : parts)
    left += part.size();
  if (left == 0) throw error(errc::invalid_argument, "a message needs at least one frame");
  FrameTally tally;
  // Declared before anything is lent: waits, whichever way this returns,
  // until libzmq holds none of the caller's memory.
  BorrowedFrames borrowed;
  const bool blocking = (flags & zmq::send_flags::dontwait) == zmq::send_flags::none;
  BorrowedFrames* lender = blocking && options.lend_borrowed ? &borrowed : nullptr;
  bool first = true;
  try {
    for (std::span<const Buffer> part : parts) {
      for (const Buffer& frame : part) {
        zmq::send_flags f = flags;
        if (--left != 0) f = f | zmq::send_flags::sndmore;
        auto sent = socket.send(tallied_zmq_message(frame, options, tally, lender), f);
        // After the first frame libzmq accepts the rest of the message whole.
        if (!sent) {
          if (first) return false;
          throw error(errc::io_error, "libzmq refused the middle of a multipart message");
        }
        first = false;
      }
    }
  } catch (const zmq::error_t& e) {
    socket_failure(e, "sending a message");
  }
  return true;
}

std::optional<std::vector<Buffer>> receive_frames(zmq::socket_ref socket,
                                                  const FrameOptions& options,
                                                  zmq::recv_flags flags) {
  // One owner for all the small frames of a message: one allocation per
  // message rather than per frame. (They then live as long as any of them.)
  auto parts = std::make_shared<std::vector<zmq::message_t>>();
  parts->reserve(16);  // a request's envelope and a few arguments, without regrowth
  try {
    bool first = true;
    bool more = true;
    bool too_many = false;
    std::optional<zmq::message_t> overflow;  // drains frames beyond max_frames
    while (more) {
      // Received in place: no move, and no close of a moved-from message.
      if (!too_many && parts->size() >= options.max_frames) {
        too_many = true;
        overflow.emplace();
      }
      zmq::message_t& message = too_many ? *overflow : parts->emplace_back();
      // Only the first frame can be missing: the rest arrive with it.
      auto received = socket.recv(message, first ? flags : zmq::recv_flags::none);
      if (!received) return std::nullopt;
      first = false;
      more = message.more();
    }
    if (too_many) {
      throw error(
          errc::limit_exceeded,
          "a message arrived with more than " + std::to_string(options.max_frames) +
              " frames; it was dropped (raise FrameOptions::max_frames if it was legitimate)");
    }
  } catch (const zmq::error_t& e) {
    socket_failure(e, "receiving a message");
  }
  // Views are made once every part has its final address (a small zmq
  // message keeps its bytes inside itself, so moving it moves them). A
  // frame above the copy threshold gets an owner of its own: what the
  // receiver keeps of one object (a result out of a batch, a pushed value)
  // must not keep the other objects' large frames alive. Its bytes stay
  // where libzmq put them: moving a large message moves a pointer.
  std::vector<Buffer> frames;
  frames.reserve(parts->size());
  for (zmq::message_t& part : *parts) {
    if (part.size() > options.copy_threshold) {
      auto own = std::make_shared<zmq::message_t>(std::move(part));
      frames.emplace_back(own->data(), own->size(), std::move(own));
    } else {
      frames.emplace_back(part.data(), part.size(), std::shared_ptr<const void>(parts, &part));
    }
  }
  return frames;
}

void limit_frame_size(zmq::socket_ref socket, std::int64_t max_frame_bytes) {
  socket.set(zmq::sockopt::maxmsgsize, max_frame_bytes);
}

void make_router_mandatory(zmq::socket_ref socket) {
  socket.set(zmq::sockopt::router_mandatory, 1);
}

}  // namespace cannery
