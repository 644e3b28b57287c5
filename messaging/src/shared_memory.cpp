#include "cannery/messaging/shared_memory.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <thread>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/connection_file.hpp"
#include "cannery/messaging/frames.hpp"
#include "mapping_guard.hpp"

namespace cannery {
namespace {

constexpr std::string_view name_prefix = "cannery-";
// 64 bytes: every element type and cache line; the pages are the segment's.
constexpr std::size_t frame_alignment = 64;
constexpr std::size_t max_name_bytes = 96;

std::string errno_text() {
  return std::strerror(errno);
}

// Segments of processes in another pid namespace may belong to live
// processes whose pids mean nothing here, so names carry the namespace.
std::string pid_namespace() {
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) != 0) return "0";
  return std::to_string(st.st_ino);
}

std::string new_segment_name() {
  return "/" + std::string(name_prefix) + pid_namespace() + "-" + std::to_string(::getpid()) + "-" +
         generate_key().substr(0, 16);
}

// A name this module could have made: no slashes after the first, nothing
// that walks out of /dev/shm.
bool valid_name(std::string_view name) {
  if (name.size() > max_name_bytes || name.size() <= 1 + name_prefix.size()) return false;
  if (name.front() != '/' || name.substr(1, name_prefix.size()) != name_prefix) return false;
  return std::all_of(name.begin() + 1 + name_prefix.size(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
  });
}

// The parts of "cannery-<namespace>-<pid>-<random>", or nullopt.
struct NameParts {
  std::string_view pid_namespace;
  long pid = 0;
};
std::optional<NameParts> parse_name(std::string_view file) {
  if (!file.starts_with(name_prefix)) return std::nullopt;
  file.remove_prefix(name_prefix.size());
  const std::size_t ns_end = file.find('-');
  if (ns_end == std::string_view::npos) return std::nullopt;
  const std::string_view pid_text =
      file.substr(ns_end + 1, file.find('-', ns_end + 1) - ns_end - 1);
  NameParts parts{file.substr(0, ns_end)};
  const auto [end, ec] =
      std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), parts.pid);
  if (ec != std::errc() || end != pid_text.data() + pid_text.size() || parts.pid <= 0)
    return std::nullopt;
  return parts;
}

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

// A new segment of that name, 0600 (only this user can open it), empty.
Fd create_segment(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) {
    throw error(errc::io_error,
                "cannot create shared memory segment " + name + ": " + errno_text());
  }
  return Fd(fd);
}

[[noreturn]] void fail_writing(const std::string& name, const std::string& what) {
  ::shm_unlink(name.c_str());
  throw error(errc::io_error, "cannot fill shared memory segment " + name + ": " + what);
}

void write_all(int fd, const Buffer& frame, std::size_t offset, const std::string& name) {
  std::size_t done = 0;
  while (done < frame.size()) {
    const ssize_t n =
        ::pwrite(fd, frame.data() + done, frame.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_writing(name, errno_text());
    done += static_cast<std::size_t>(n);
  }
}

// `size` bytes of an open segment, mapped read-only; the Buffer's owner
// unmaps them.
Buffer map_read_only(int fd, std::size_t size, const std::string& name) {
  if (size == 0) return {};
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    throw error(errc::io_error, "cannot map shared memory segment " + name + ": " + errno_text());
  }
  std::shared_ptr<const void> owner(
      data, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return Buffer(data, size, std::move(owner));
}

// The whole of a segment another process made, mapped read-only, once it is
// known to be what a cannery peer of this user makes: a regular file (a FIFO
// would block the open, a device do anything), owned by this user and closed
// to everyone else (others could change or truncate it), of the size the
// message says. /dev/shm is writable by every local user, so a name in a
// message proves nothing. A truncation after the checks is survived: the
// mapping is guarded (mapping_guard.hpp).
Buffer map_segment(const std::string& name, std::size_t declared_size) {
  if (!valid_name(name)) {
    throw error(errc::malformed_message, "'" + name.substr(0, max_name_bytes) +
                                             "' is not a cannery shared memory segment name");
  }
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
  const Fd fd(::shm_open(name.c_str(), O_RDONLY | O_NONBLOCK, 0));
  if (fd.get() < 0) {
    throw error(errc::io_error,
                "cannot open shared memory segment " + name + ": " + errno_text() +
                    " (the sender is on another host or in another container; turn shared "
                    "memory off on one side)");
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw error(errc::malformed_message,
                "shared memory segment " + name + " is not a regular file; refused");
  }
  if (st.st_uid != ::geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    throw error(errc::malformed_message,
                "shared memory segment " + name + " belongs to uid " + std::to_string(st.st_uid) +
                    " with mode 0" +
                    std::to_string((st.st_mode >> 6 & 7) * 100 + (st.st_mode >> 3 & 7) * 10 +
                                   (st.st_mode & 7)) +
                    "; cannery peers make segments 0600 of their own user: refused");
  }
  if (static_cast<std::uint64_t>(st.st_size) != declared_size) {
    throw error(errc::malformed_message,
                "shared memory segment " + name + " has " + std::to_string(st.st_size) +
                    " bytes; the message says " + std::to_string(declared_size));
  }
  if (declared_size == 0) return {};
  void* data = ::mmap(nullptr, declared_size, PROT_READ, MAP_SHARED, fd.get(), 0);
  if (data == MAP_FAILED) {
    throw error(errc::io_error, "cannot map shared memory segment " + name + ": " + errno_text());
  }
  return Buffer(data, declared_size, detail::guard_mapping(data, declared_size, name));
}

std::size_t placed_bytes(const std::vector<detail::FramePlacement>& placements) noexcept {
  std::size_t total = 0;
  for (const detail::FramePlacement& p : placements)
    total += p.length;
  return total;
}

// The owner of a SharedArray's mapping: the control block's deleter, so that
// any Buffer sharing that owner can be traced back to its segment.
struct WritableMapping {
  std::string name;
  const std::byte* base;
  std::size_t size;

  void operator()(void* data) const noexcept {
    ::munmap(data, size);
    ::shm_unlink(name.c_str());
  }
};

// The SharedArray segment `owner` maps, or null for any other owner.
const WritableMapping* segment_of(const std::shared_ptr<const void>& owner) noexcept {
  return std::get_deleter<WritableMapping>(owner);
}

const WritableMapping* writable_mapping_of(const Buffer& frame) noexcept {
  const WritableMapping* mapping = segment_of(frame.owner());
  if (mapping == nullptr) return nullptr;
  // A slice of the mapping (it always is, but the bytes decide, not the owner).
  if (frame.data() < mapping->base || frame.data() + frame.size() > mapping->base + mapping->size)
    return nullptr;
  return mapping;
}

// The indices of the frames of at least `min_frame_bytes` (empty ones never).
std::vector<std::size_t> large_frames(std::span<const Buffer> frames, std::size_t min_frame_bytes) {
  std::vector<std::size_t> large;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (!frames[i].empty() && frames[i].size() >= min_frame_bytes) large.push_back(i);
  }
  return large;
}

// The large frames but those `named` (ascending) shared out among at most
// `writers` groups of about equal bytes (largest frame first, each to the
// lightest group), no group below SharedFrames::min_bytes_per_writer unless
// there is only one. Each group's indices ascend, as a segment's placements
// must.
std::vector<std::vector<std::size_t>> writer_groups(std::span<const Buffer> frames,
                                                    std::size_t min_frame_bytes,
                                                    std::size_t writers,
                                                    std::span<const std::size_t> named) {
  const std::vector<std::size_t> candidates = large_frames(frames, min_frame_bytes);
  std::vector<std::size_t> large;
  std::set_difference(candidates.begin(), candidates.end(), named.begin(), named.end(),
                      std::back_inserter(large));
  if (large.empty()) return {};
  std::size_t total = 0;
  for (std::size_t i : large)
    total += frames[i].size();
  const std::size_t count = std::clamp<std::size_t>(
      std::min(writers, total / SharedFrames::min_bytes_per_writer), 1, large.size());
  std::stable_sort(large.begin(), large.end(), [&](std::size_t a, std::size_t b) {
    return frames[a].size() > frames[b].size();
  });
  std::vector<std::vector<std::size_t>> groups(count);
  std::vector<std::size_t> bytes(count, 0);
  for (std::size_t i : large) {
    const auto lightest =
        static_cast<std::size_t>(std::min_element(bytes.begin(), bytes.end()) - bytes.begin());
    groups[lightest].push_back(i);
    bytes[lightest] += frames[i].size();
  }
  for (std::vector<std::size_t>& group : groups)
    std::sort(group.begin(), group.end());
  return groups;
}

void restore_from_segment(const protocol::SegmentDescriptor& descriptor,
                          std::vector<Buffer>& frames);

}  // namespace

namespace detail {

std::shared_ptr<void> create_shared_mapping(std::size_t bytes) {
  // mmap refuses zero bytes; an empty array gets a segment of one.
  const std::size_t size = std::max<std::size_t>(bytes, 1);
  const std::string name = new_segment_name();
  const Fd fd = create_segment(name);
  // Reserved now, so that running out of /dev/shm is this error rather than
  // a SIGBUS on some later write through the mapping.
  if (const int e = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(size)); e != 0) {
    ::shm_unlink(name.c_str());
    throw error(errc::io_error, "cannot reserve " + std::to_string(size) +
                                    " bytes of shared memory in /dev/shm: " + std::strerror(e) +
                                    " (a container's /dev/shm is often 64 MB: raise --shm-size)");
  }
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (data == MAP_FAILED) {
    const std::string why = errno_text();
    ::shm_unlink(name.c_str());
    throw error(errc::io_error, "cannot map shared memory segment " + name + ": " + why);
  }
  // Should the control block fail to allocate, shared_ptr calls the deleter.
  return std::shared_ptr<void>(data,
                               WritableMapping{name, static_cast<const std::byte*>(data), size});
}

}  // namespace detail

SharedSegment::SharedSegment(std::string name, std::size_t size,
                             std::vector<detail::FramePlacement> placements)
    : name_(std::move(name)), size_(size), placements_(std::move(placements)) {}

SharedSegment::SharedSegment(SharedSegment&& other) noexcept
    : name_(std::exchange(other.name_, {})),
      size_(other.size_),
      placements_(std::move(other.placements_)) {}

SharedSegment& SharedSegment::operator=(SharedSegment&& other) noexcept {
  if (this != &other) {
    SharedSegment old(std::move(*this));
    name_ = std::exchange(other.name_, {});
    size_ = other.size_;
    placements_ = std::move(other.placements_);
  }
  return *this;
}

SharedSegment::~SharedSegment() {
  if (!name_.empty()) ::shm_unlink(name_.c_str());
}

std::optional<SharedSegment> SharedSegment::store(std::span<const Buffer> frames,
                                                  std::size_t min_frame_bytes) {
  const std::vector<std::size_t> large = large_frames(frames, min_frame_bytes);
  if (large.empty()) return std::nullopt;
  std::vector<Buffer> written(frames.begin(), frames.end());
  return write(written, large);
}

SharedSegment SharedSegment::write(std::span<Buffer> frames, std::span<const std::size_t> indices) {
  std::vector<detail::FramePlacement> placements;
  placements.reserve(indices.size());
  std::size_t end = 0;
  for (std::size_t i : indices) {
    const std::size_t offset = (end + frame_alignment - 1) / frame_alignment * frame_alignment;
    placements.push_back({i, offset, frames[i].size()});
    end = offset + frames[i].size();
  }

  std::string name = new_segment_name();
  const Fd fd = create_segment(name);
  // tmpfs gives no error on ftruncate when it is too small, only on the
  // write that runs out (or a SIGBUS for a mapping): ask first.
  struct statvfs fs {};
  if (::fstatvfs(fd.get(), &fs) == 0 && fs.f_bavail * fs.f_frsize < end) {
    fail_writing(name, std::to_string(end) + " bytes needed, " +
                           std::to_string(fs.f_bavail * fs.f_frsize) + " free in /dev/shm");
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(end)) != 0) fail_writing(name, errno_text());
  Buffer mapping;
  try {
    mapping = map_read_only(fd.get(), end, name);
  } catch (...) {
    ::shm_unlink(name.c_str());
    throw;
  }
  for (const detail::FramePlacement& p : placements) {
    write_all(fd.get(), frames[p.index], p.offset, name);
    // The written frame's reference goes here, on the writing thread: the
    // last one frees the original at once.
    frames[p.index] = mapping.slice(p.offset, p.length);
  }
  return SharedSegment(std::move(name), end, std::move(placements));
}

std::size_t SharedSegment::stored_bytes() const noexcept {
  return placed_bytes(placements_);
}

protocol::SegmentDescriptor SharedSegment::descriptor() const {
  return {name_, size_, placements_};
}

std::optional<SharedFrames> SharedFrames::prepare(std::span<const Buffer> frames,
                                                  std::size_t min_frame_bytes,
                                                  std::size_t writers) {
  std::vector<Buffer> copies(frames.begin(), frames.end());
  return move_into(copies, min_frame_bytes, writers);
}

std::optional<SharedFrames> SharedFrames::move_into(std::vector<Buffer>& frames,
                                                    std::size_t min_frame_bytes,
                                                    std::size_t writers) {
  std::optional<SharedFrames> shared = in_place(frames, min_frame_bytes);
  if (!shared) shared = SharedFrames();
  std::vector<std::size_t> named;  // already in shared memory: not written
  for (const InPlace& p : shared->in_place_) {
    for (const detail::FramePlacement& placement : p.placements)
      named.push_back(placement.index);
  }
  std::sort(named.begin(), named.end());
  shared->written_ = write_segments(frames, writer_groups(frames, min_frame_bytes, writers, named));
  if (shared->written_.empty() && shared->in_place_.empty()) return std::nullopt;
  return shared;
}

std::vector<SharedSegment> SharedFrames::write_segments(
    std::span<Buffer> frames, const std::vector<std::vector<std::size_t>>& groups) {
  std::vector<std::optional<SharedSegment>> made(groups.size());
  std::vector<std::exception_ptr> failures(groups.size());
  auto write_group = [&](std::size_t g) {
    try {
      made[g] = SharedSegment::write(frames, groups[g]);
    } catch (...) {
      failures[g] = std::current_exception();
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (std::size_t g = 1; g < groups.size(); ++g) {
      try {
        helpers.emplace_back(write_group, g);
      } catch (const std::system_error&) {
        write_group(g);  // no thread to be had: this one writes it
      }
    }
    if (!groups.empty()) write_group(0);
  }  // the helpers join here
  // When one failed, the segments the others wrote go with `made`.
  for (const std::exception_ptr& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
  std::vector<SharedSegment> segments;
  segments.reserve(made.size());
  for (std::optional<SharedSegment>& segment : made)
    segments.push_back(std::move(*segment));
  return segments;
}

std::optional<SharedFrames> SharedFrames::in_place(std::span<const Buffer> frames,
                                                   std::size_t min_frame_bytes) {
  SharedFrames shared;
  for (std::size_t i : large_frames(frames, min_frame_bytes)) {
    const WritableMapping* mapping = writable_mapping_of(frames[i]);
    if (mapping == nullptr) continue;
    auto same = [&](const InPlace& p) { return segment_of(p.mapping) == mapping; };
    auto found = std::find_if(shared.in_place_.begin(), shared.in_place_.end(), same);
    if (found == shared.in_place_.end())
      found = shared.in_place_.insert(shared.in_place_.end(), InPlace{frames[i].owner(), {}});
    const auto offset = static_cast<std::size_t>(frames[i].data() - mapping->base);
    found->placements.push_back({i, offset, frames[i].size()});
  }
  if (shared.in_place_.empty()) return std::nullopt;
  return shared;
}

protocol::SharedMemoryDescriptor SharedFrames::descriptor() const {
  protocol::SharedMemoryDescriptor segments;
  for (const SharedSegment& segment : written_)
    segments.push_back(segment.descriptor());
  for (const InPlace& p : in_place_) {
    const WritableMapping* mapping = segment_of(p.mapping);
    segments.push_back({mapping->name, mapping->size, p.placements});
  }
  return segments;
}

std::vector<Buffer> SharedFrames::placeholders(std::span<const Buffer> frames) const {
  std::vector<Buffer> out(frames.begin(), frames.end());
  auto blank = [&](const std::vector<detail::FramePlacement>& placements) {
    for (const detail::FramePlacement& p : placements)
      out.at(p.index) = Buffer();
  };
  for (const SharedSegment& segment : written_)
    blank(segment.placements());
  for (const InPlace& p : in_place_)
    blank(p.placements);
  return out;
}

std::size_t SharedFrames::written_bytes() const noexcept {
  std::size_t total = 0;
  for (const SharedSegment& segment : written_)
    total += segment.stored_bytes();
  return total;
}

std::size_t SharedFrames::in_place_bytes() const noexcept {
  std::size_t total = 0;
  for (const InPlace& p : in_place_)
    total += placed_bytes(p.placements);
  return total;
}

void restore_shared_frames(const protocol::SharedMemoryDescriptor& descriptor,
                           std::vector<Buffer>& frames) {
  // All or nothing: a refusal leaves `frames` as it was.
  std::vector<Buffer> restored = frames;
  for (const protocol::SegmentDescriptor& segment : descriptor)
    restore_from_segment(segment, restored);
  frames = std::move(restored);
}

namespace {

void restore_from_segment(const protocol::SegmentDescriptor& descriptor,
                          std::vector<Buffer>& frames) {
  const Buffer segment = map_segment(descriptor.segment, descriptor.size);
  std::size_t next_index = 0;
  for (const protocol::FramePlacement& p : descriptor.frames) {
    if (p.index < next_index || p.index >= frames.size() || !frames[p.index].empty()) {
      throw error(errc::malformed_message,
                  "shared memory descriptor names frame " + std::to_string(p.index) +
                      ", which is not an empty placeholder after the previous one among the " +
                      std::to_string(frames.size()) + " frames that arrived");
    }
    if (p.offset > segment.size() || p.length > segment.size() - p.offset) {
      throw error(errc::malformed_message,
                  "shared memory descriptor: bytes [" + std::to_string(p.offset) + ", +" +
                      std::to_string(p.length) + ") lie outside the segment's " +
                      std::to_string(segment.size()));
    }
    frames[p.index] = aligned_for_views(segment.slice(p.offset, p.length));
    next_index = p.index + 1;
  }
}

}  // namespace

SharedMemoryProbe::SharedMemoryProbe(SharedSegment segment, std::string token)
    : segment_(std::move(segment)), token_(std::move(token)) {}

std::optional<SharedMemoryProbe> SharedMemoryProbe::create() noexcept {
  try {
    std::string token = generate_key().substr(0, 32);
    const Buffer frame = Buffer::copy_of(token);
    std::optional<SharedSegment> segment = SharedSegment::store(std::span(&frame, 1), 0);
    if (!segment) return std::nullopt;
    return SharedMemoryProbe(std::move(*segment), std::move(token));
  } catch (...) {
    return std::nullopt;
  }
}

protocol::ProbeDescription SharedMemoryProbe::describe() const {
  return {segment_.name(), token_};
}

std::optional<std::string> damaged_segment(std::span<const Buffer> frames) {
  for (const Buffer& frame : frames) {
    if (auto name = detail::damaged_mapping(frame.owner())) return name;
  }
  return std::nullopt;
}

bool views_shared_memory(const Buffer& frame) noexcept {
  return detail::is_guarded_mapping(frame.owner());
}

std::uint64_t damaged_segments_seen() noexcept {
  return detail::damaged_mappings();
}

bool shares_memory_with(const protocol::ProbeDescription& probe) noexcept {
  try {
    if (probe.token.empty()) return false;
    return map_segment(probe.segment, probe.token.size()).as_string_view() == probe.token;
  } catch (...) {
    return false;
  }
}

std::size_t remove_stale_segments() noexcept {
  std::size_t removed = 0;
  try {
    const std::string ours = pid_namespace();
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
      const std::string file = entry.path().filename().string();
      const std::optional<NameParts> parts = parse_name(file);
      if (!parts || parts->pid_namespace != ours) continue;
      if (::kill(static_cast<pid_t>(parts->pid), 0) == 0 || errno != ESRCH) continue;
      if (::shm_unlink(("/" + file).c_str()) == 0) ++removed;
    }
  } catch (...) {
    // A sweep that cannot list /dev/shm removes nothing; nothing depends on it.
  }
  return removed;
}

std::optional<std::string> shm_domain() noexcept {
  try {
    std::ifstream boot("/proc/sys/kernel/random/boot_id");
    std::string boot_id;
    struct stat st {};
    if (!std::getline(boot, boot_id) || boot_id.empty() || ::stat("/dev/shm", &st) != 0)
      return std::nullopt;
    return boot_id + ":" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace cannery
