// Shared-memory frames: stored once, viewed by receivers in place, every
// descriptor field checked, segments removed with their owner.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cannery/messaging/shared_memory.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace proto = cannery::protocol;
using cannery::Buffer;
using cannery::Object;
using cannery::SharedSegment;
using Catch::Matchers::Contains;

namespace {

using cannery::test::filled;

using cannery::test::segment_exists;

bool lies_within(const Buffer& inner, const void* begin, std::size_t size) {
  const auto* b = static_cast<const std::byte*>(begin);
  return inner.data() >= b && inner.data() + inner.size() <= b + size;
}

// The frames a sender would put on the wire: a small header, two large
// buffers with a small one between them.
std::vector<Buffer> sample_frames() {
  return {Buffer::copy_of("header"), filled(2 << 20, 1), filled(100, 2), filled(1 << 20, 3)};
}

// `frames` with the frames a segment holds blanked, as a sender sends them.
std::vector<Buffer> placeholders(std::vector<Buffer> frames, const SharedSegment& segment) {
  for (const auto& p : segment.placements())
    frames.at(p.index) = Buffer();
  return frames;
}

// The error restore_shared_frames gives for `descriptor`.
cannery::errc restore_error(const proto::SharedMemoryDescriptor& descriptor,
                            std::vector<Buffer> frames) {
  const std::vector<Buffer> before = frames;
  try {
    cannery::restore_shared_frames(descriptor, frames);
  } catch (const cannery::error& e) {
    CHECK(frames == before);  // a refused descriptor changes nothing
    return e.code();
  }
  FAIL("restore_shared_frames accepted a bad descriptor");
  return {};
}

cannery::errc restore_error(const proto::SegmentDescriptor& segment, std::vector<Buffer> frames) {
  return restore_error(proto::SharedMemoryDescriptor{segment}, std::move(frames));
}

// `good` with one field replaced.
template <class Record, class V>
Record with(Record good, V Record::*member, std::type_identity_t<V> value) {
  good.*member = std::move(value);
  return good;
}

// A descriptor of the wrong shape never reaches restore_shared_frames: the
// codec refuses the message that carries it. Checks that a put_request whose
// shared_memory is `descriptor` is refused naming `field`.
void check_put_refused(Object descriptor, const std::string& field) {
  Object content(proto::encode(proto::PutRequest{.ref = 1, .shared_memory = std::nullopt}));
  content.to_dict()["shared_memory"] = std::move(descriptor);
  const cannery::error e =
      cannery::test::capture_error([&] { proto::decode<proto::PutRequest>(content); });
  INFO(e.what());
  CHECK(e.code() == cannery::errc::malformed_message);
  CHECK_THAT(e.what(), Contains("put_request") && Contains("'" + field + "'"));
}

// A segment's descriptor as it travels, with its entry `key` set to `value`.
Object garbled(const proto::SegmentDescriptor& good, const std::string& key, Object value) {
  Object segment(proto::encode(good));
  segment.to_dict()[key] = std::move(value);
  return segment;
}

Object listed(Object segment) {
  return Object(Object::List{std::move(segment)});
}

}  // namespace

TEST_CASE("large frames go through a segment and come back as views of it", "[shared_memory]") {
  const std::vector<Buffer> frames = sample_frames();
  std::optional<SharedSegment> segment = SharedSegment::store(frames, 512 * 1024);
  REQUIRE(segment);
  CHECK(segment->stored_bytes() == (2u << 20) + (1u << 20));
  CHECK(segment_exists(segment->name()));

  std::vector<Buffer> received = placeholders(frames, *segment);
  REQUIRE(received.size() == frames.size());
  CHECK(received[0] == frames[0]);
  CHECK(received[1].empty());
  CHECK(received[2] == frames[2]);
  CHECK(received[3].empty());

  cannery::restore_shared_frames({segment->descriptor()}, received);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    REQUIRE(received[i].size() == frames[i].size());
    CHECK(std::memcmp(received[i].data(), frames[i].data(), frames[i].size()) == 0);
  }
  // Stored frames are views of one mapping, not copies of the originals.
  CHECK(received[1].data() != frames[1].data());
  CHECK(received[1].owner() == received[3].owner());
  CHECK(reinterpret_cast<std::uintptr_t>(received[1].data()) % 64 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(received[3].data()) % 64 == 0);
  CHECK(lies_within(received[3], received[1].data(), segment->size()));
}

TEST_CASE("frames below the threshold need no segment", "[shared_memory]") {
  CHECK_FALSE(SharedSegment::store(sample_frames(), 4 << 20));
  CHECK_FALSE(SharedSegment::store(std::vector<Buffer>{Buffer()}, 0));
  CHECK_FALSE(cannery::SharedFrames::prepare(sample_frames(), 4 << 20));
}

TEST_CASE("a segment goes with its owner, and views mapped before stay valid", "[shared_memory]") {
  const std::vector<Buffer> frames = sample_frames();
  std::optional<SharedSegment> segment = SharedSegment::store(frames, 512 * 1024);
  REQUIRE(segment);
  const std::string name = segment->name();
  const proto::SegmentDescriptor descriptor = segment->descriptor();
  std::vector<Buffer> early = placeholders(frames, *segment);
  cannery::restore_shared_frames({descriptor}, early);

  SharedSegment moved = std::move(*segment);
  segment.reset();  // the moved-from object must not remove it
  CHECK(segment_exists(name));
  { SharedSegment gone = std::move(moved); }
  CHECK_FALSE(segment_exists(name));

  CHECK(std::memcmp(early[1].data(), frames[1].data(), frames[1].size()) == 0);
  CHECK(restore_error(descriptor, placeholders(frames, *SharedSegment::store(frames, 0))) ==
        cannery::errc::io_error);
}

TEST_CASE("every descriptor field is checked before the segment is viewed", "[shared_memory]") {
  const std::vector<Buffer> frames = sample_frames();
  std::optional<SharedSegment> segment = SharedSegment::store(frames, 512 * 1024);
  REQUIRE(segment);
  const proto::SegmentDescriptor good = segment->descriptor();
  const std::vector<Buffer> received = placeholders(frames, *segment);
  const std::size_t size = segment->size();
  constexpr auto huge = std::numeric_limits<std::size_t>::max();
  using cannery::errc;
  using Segment = proto::SegmentDescriptor;

  SECTION("names outside cannery's own") {
    for (const char* name : {"/../etc/passwd", "/cannery-1/../x", "cannery-1-2-ab", "/other-1-2",
                             "/cannery-", "/cannery-1-2-ABCDEF"}) {
      INFO(name);
      CHECK(restore_error(with(good, &Segment::segment, name), received) ==
            errc::malformed_message);
    }
    check_put_refused(listed(garbled(good, "segment", Object(std::int64_t{7}))),
                      "shared_memory[0].segment");
  }
  SECTION("a size that is not the segment's") {
    CHECK(restore_error(with(good, &Segment::size, size + 1), received) == errc::malformed_message);
    check_put_refused(listed(garbled(good, "size", Object(std::int64_t{-1}))),
                      "shared_memory[0].size");
  }
  SECTION("placements that do not fit the frames or the segment") {
    const std::vector<proto::FramePlacement> bad = {
        {4, 0, 16},         // no such frame
        {0, 0, 6},          // frame 0 arrived with bytes: not a placeholder
        {1, size - 8, 16},  // runs past the end
        {1, huge, 16},      // offset beyond the segment
        {1, 64, huge},      // length that would wrap
    };
    for (const proto::FramePlacement& entry : bad) {
      CHECK(restore_error(with(good, &Segment::frames, {entry}), received) ==
            errc::malformed_message);
    }
    // Not {index, offset, length}.
    for (const Object& entry : {Object(Object::List{Object(1)}), Object("frame")}) {
      check_put_refused(listed(garbled(good, "frames", Object(Object::List{entry}))),
                        "shared_memory[0].frames[0]");
    }
    // The same placeholder twice, or out of order.
    CHECK(restore_error(with(good, &Segment::frames, {{3, 0, 8}, {1, 0, 8}}), received) ==
          errc::malformed_message);
    CHECK(restore_error(with(good, &Segment::frames, {{1, 0, 8}, {1, 0, 8}}), received) ==
          errc::malformed_message);
  }
  SECTION("missing fields") {
    for (const char* key : {"segment", "size", "frames"}) {
      Object missing(proto::encode(good));
      missing.to_dict().erase(key);
      check_put_refused(listed(std::move(missing)), "shared_memory[0]." + std::string(key));
    }
    check_put_refused(Object("segment"), "shared_memory");
    check_put_refused(listed(Object("segment")), "shared_memory[0]");
  }
  SECTION("a second segment naming a frame the first one restored") {
    CHECK(restore_error(proto::SharedMemoryDescriptor{good, good}, received) ==
          errc::malformed_message);
  }
}

TEST_CASE("a probe tells whether a peer sees this /dev/shm", "[shared_memory]") {
  std::optional<cannery::SharedMemoryProbe> probe = cannery::SharedMemoryProbe::create();
  REQUIRE(probe);
  const proto::ProbeDescription described = probe->describe();
  using Probe = proto::ProbeDescription;
  CHECK(cannery::shares_memory_with(described));
  CHECK_FALSE(cannery::shares_memory_with(with(described, &Probe::token, "0123456789abcdef")));
  CHECK_FALSE(cannery::shares_memory_with(with(described, &Probe::token, "")));
  CHECK_FALSE(cannery::shares_memory_with(with(described, &Probe::segment, "/cannery-0-1-ab")));
  CHECK_FALSE(cannery::shares_memory_with(Probe{}));
  probe.reset();
  CHECK_FALSE(cannery::shares_memory_with(described));

  // A probe that is not {segment, token} is refused with the registration
  // that carries it.
  proto::RegistrationRequest request;
  request.uuid = "u";
  request.protocol = "1.0";
  request.shared_memory = described;
  Object registration(proto::encode(request));
  registration.to_dict()["shared_memory"] = Object(std::int64_t{3});
  const cannery::error e = cannery::test::capture_error(
      [&] { proto::decode<proto::RegistrationRequest>(registration); });
  CHECK(e.code() == cannery::errc::malformed_message);
  CHECK_THAT(e.what(), Contains("registration_request") && Contains("'shared_memory'"));
}

TEST_CASE("segments of processes that are gone are swept", "[shared_memory]") {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);

  struct stat ns {};
  REQUIRE(::stat("/proc/self/ns/pid", &ns) == 0);
  const std::string stale =
      "/cannery-" + std::to_string(ns.st_ino) + "-" + std::to_string(child) + "-0123abcd";
  const std::string other_namespace = "/cannery-1-" + std::to_string(child) + "-0123abcd";
  for (const std::string& name : {stale, other_namespace}) {
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_RDWR, 0600);
    REQUIRE(fd >= 0);
    ::close(fd);
  }
  std::optional<SharedSegment> live = SharedSegment::store(sample_frames(), 0);
  REQUIRE(live);

  // Not counted: a controller starting in another test process may sweep it first.
  cannery::remove_stale_segments();
  CHECK_FALSE(segment_exists(stale));
  CHECK(segment_exists(live->name()));
  CHECK(segment_exists(other_namespace));  // its pid means another process
  ::shm_unlink(other_namespace.c_str());
}
