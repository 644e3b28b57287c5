#pragma once
// Large frames to processes on the same host through POSIX shared memory.
//
// Over tcp or ipc, every byte of a 400 MB object is copied twice by the
// kernel and lands in fresh pages of the receiver, once per receiver. A
// shared-memory segment is written once (pwrite: the writer's pages are not
// mapped, so its resident memory does not grow) and every receiver on the host
// maps the same pages read-only: no copy at all on the receiving side.
//
// The message still travels over the socket, signed as usual: the stored
// frames are replaced by empty placeholders and the signed content carries
// the segment's descriptor. Receivers check the descriptor against the
// segment before viewing it.
//
// Segments are named /cannery-<pid namespace>-<pid>-<random>, created 0600
// (only the same user can open them) and removed when their SharedSegment
// goes. A process killed before that leaves its segments behind;
// remove_stale_segments() deletes those of processes that no longer exist.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery {

namespace detail {
// Where one frame of a message lies in a segment.
using FramePlacement = protocol::FramePlacement;
}  // namespace detail

// A segment this process made, removed from /dev/shm when this object goes
// (receivers that mapped it keep their view). Move-only.
class SharedSegment {
 public:
  // Writes each frame of at least `min_frame_bytes` into a new segment.
  // Nullopt when no frame is that large. Throws cannery::error(io_error)
  // when the segment cannot be made or written (e.g. /dev/shm is too small).
  static std::optional<SharedSegment> store(std::span<const Buffer> frames,
                                            std::size_t min_frame_bytes);

  SharedSegment(SharedSegment&&) noexcept;
  SharedSegment& operator=(SharedSegment&&) noexcept;
  SharedSegment(const SharedSegment&) = delete;
  SharedSegment& operator=(const SharedSegment&) = delete;
  ~SharedSegment();

  const std::string& name() const noexcept { return name_; }
  std::size_t size() const noexcept { return size_; }
  // Bytes of frames stored (size() adds alignment padding).
  std::size_t stored_bytes() const noexcept;

  protocol::SegmentDescriptor descriptor() const;
  const std::vector<detail::FramePlacement>& placements() const noexcept { return placements_; }

 private:
  friend class SharedFrames;
  SharedSegment(std::string name, std::size_t size, std::vector<detail::FramePlacement> placements);
  // Writes frames[i] for each i of `indices` (ascending) into a new segment
  // and replaces it with a read-only view of the segment.
  static SharedSegment write(std::span<Buffer> frames, std::span<const std::size_t> indices);

  std::string name_;
  std::size_t size_ = 0;
  std::vector<detail::FramePlacement> placements_;
};

// The large frames of one message, made ready for receivers on this host.
// Frames that already live in shared memory (a SharedArray's, see
// shared_array.hpp) are named where they are; the others are written once
// into new SharedSegments. Holds what it names until it goes.
class SharedFrames {
 public:
  // Nullopt when no frame has at least `min_frame_bytes` bytes. Throws
  // cannery::error(io_error) when a segment cannot be made or written.
  //
  // Up to `writers` threads (the caller's and writers - 1 more) write the
  // frames, each into a segment of its own: tmpfs takes one lock per file
  // for a write, so only separate files fill in parallel. Each thread gets
  // whole frames, at least min_bytes_per_writer of them, the frames shared
  // out by size; one huge frame is written by one thread.
  static std::optional<SharedFrames> prepare(std::span<const Buffer> frames,
                                             std::size_t min_frame_bytes, std::size_t writers = 1);
  // prepare(), and each frame written is replaced in `frames` by a read-only
  // view of its copy in the segment, by the thread that wrote it: an
  // original nothing else holds is freed at once, so the object is kept once
  // (in shared memory), not twice. Borrowed frames (no owner) may be given:
  // those written need not outlive the call.
  static std::optional<SharedFrames> move_into(std::vector<Buffer>& frames,
                                               std::size_t min_frame_bytes,
                                               std::size_t writers = 1);
  static constexpr std::size_t min_bytes_per_writer = std::size_t{16} << 20;
  // Only the frames already in shared memory, nothing written: for messages
  // whose frames live no longer than the request (a task's arguments).
  static std::optional<SharedFrames> in_place(std::span<const Buffer> frames,
                                              std::size_t min_frame_bytes);

  // One entry per segment, for the signed content of the message that
  // carries placeholders().
  protocol::SharedMemoryDescriptor descriptor() const;
  // `frames` (the ones given to prepare()) with each frame named by the
  // descriptor replaced by an empty placeholder.
  std::vector<Buffer> placeholders(std::span<const Buffer> frames) const;

  std::size_t written_bytes() const noexcept;   // copied into new segments
  std::size_t in_place_bytes() const noexcept;  // named where they already were

 private:
  struct InPlace {
    // A frame's owner: a SharedArray's mapping, which keeps the segment's
    // name in /dev/shm and says (as its deleter) which segment it is.
    std::shared_ptr<const void> mapping;
    std::vector<detail::FramePlacement> placements;
  };
  SharedFrames() = default;
  // One segment per group of frame indices, each written by a thread of its
  // own (the first by this one).
  static std::vector<SharedSegment> write_segments(
      std::span<Buffer> frames, const std::vector<std::vector<std::size_t>>& groups);

  std::vector<SharedSegment> written_;
  std::vector<InPlace> in_place_;
};

// Receiving side: replaces the placeholders `descriptor` (as
// SharedFrames::descriptor makes it) names with read-only views of the
// segments. Every field is checked against the frames and the segments that
// exist before anything is viewed; a segment must be a regular file of this
// user, closed to group and others, of the size the descriptor says. Throws
// cannery::error: malformed_message for a descriptor or segment that does
// not fit, io_error when a segment cannot be opened (the sender is on
// another host or in another container: turn shared memory off on one side).
//
// Another process of this user can still truncate a segment after it is
// mapped. Reading a lost page would end the process with SIGBUS; instead,
// the first such mapping installs a SIGBUS handler that maps zeros over the
// whole segment and marks it damaged (a fault anywhere else goes to the
// handler installed before, by default ending the process as before).
// Readers ask damaged_segment() before trusting what they read.
void restore_shared_frames(const protocol::SharedMemoryDescriptor& descriptor,
                           std::vector<Buffer>& frames);

// The name of a segment that was found truncated among those `frames` view;
// nullopt when none was.
std::optional<std::string> damaged_segment(std::span<const Buffer> frames);
// Whether `frame` views a mapped segment (restore_shared_frames made it):
// another process may still truncate what it reads.
bool views_shared_memory(const Buffer& frame) noexcept;
// How many mapped segments were found truncated since the process started:
// compared before and after a task, it tells whether anything the task read
// may have been zeros instead of data.
std::uint64_t damaged_segments_seen() noexcept;

// Tells a peer's process whether it sees this process's /dev/shm: a small
// segment holding a random token. An engine sends describe() when it
// registers; the controller checks it with shares_memory_with().
class SharedMemoryProbe {
 public:
  // Nullopt when this process cannot create a segment (no /dev/shm).
  static std::optional<SharedMemoryProbe> create() noexcept;

  protocol::ProbeDescription describe() const;

 private:
  SharedMemoryProbe(SharedSegment segment, std::string token);
  SharedSegment segment_;  // removed from /dev/shm with the probe
  std::string token_;
};

// True when the probe a peer described can be opened here and holds the
// token it claims. Never throws: anything unexpected means "no".
bool shares_memory_with(const protocol::ProbeDescription& probe) noexcept;

// Which /dev/shm this process sees, as text that two processes share only
// when they see the same one: the kernel's boot id with the device and
// inode of /dev/shm (a container's or a test host's own /dev/shm is another
// file system or directory). Nullopt when /dev/shm cannot be examined.
std::optional<std::string> shm_domain() noexcept;

// Removes segments left by processes of this pid namespace that no longer
// run. Returns how many were removed.
std::size_t remove_stale_segments() noexcept;

}  // namespace cannery
