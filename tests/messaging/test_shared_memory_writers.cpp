// SharedFrames::prepare and move_into with several writer threads: the
// frames are shared out among segments of their own, every frame comes back
// whole, move_into frees the originals it wrote, and a writer that fails
// leaves no segment behind.

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cannery/messaging/shared_memory.hpp>
#include <catch2/catch.hpp>
#include <cstring>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using cannery::Buffer;
using cannery::SharedFrames;

namespace {

using cannery::test::mib;
constexpr std::size_t min_shared_frame = mib;

using cannery::test::filled;

// A small header, then one large frame of each size, then a small trailer.
std::vector<Buffer> frames_of(const std::vector<std::size_t>& sizes) {
  std::vector<Buffer> frames{Buffer::copy_of("header")};
  for (std::size_t s : sizes)
    frames.push_back(filled(s, static_cast<unsigned char>(frames.size())));
  frames.push_back(filled(100, 7));
  return frames;
}

struct Segment {
  std::vector<std::size_t> indices;
  std::size_t bytes = 0;
};

// What each segment of a SharedFrames descriptor holds.
std::vector<Segment> segments_of(const cannery::protocol::SharedMemoryDescriptor& descriptor) {
  std::vector<Segment> out;
  for (const cannery::protocol::SegmentDescriptor& segment : descriptor) {
    Segment s;
    for (const cannery::protocol::FramePlacement& placed : segment.frames) {
      s.indices.push_back(placed.index);
      s.bytes += placed.length;
    }
    out.push_back(std::move(s));
  }
  return out;
}

// Sends `frames` through `shared` and back, as a receiver on this host sees them.
std::vector<Buffer> round_trip(const SharedFrames& shared, const std::vector<Buffer>& frames) {
  std::vector<Buffer> received = shared.placeholders(frames);
  cannery::restore_shared_frames(shared.descriptor(), received);
  return received;
}

void check_same_bytes(const std::vector<Buffer>& received, const std::vector<Buffer>& sent) {
  REQUIRE(received.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    REQUIRE(received[i].size() == sent[i].size());
    CHECK(std::memcmp(received[i].data(), sent[i].data(), sent[i].size()) == 0);
  }
}

}  // namespace

TEST_CASE("two writers each fill a segment of their own with half the bytes",
          "[shared_memory][writers]") {
  const std::vector<Buffer> frames =
      frames_of({8 * mib, 8 * mib, 8 * mib, 8 * mib, 8 * mib, 8 * mib});
  std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_shared_frame, 2);
  REQUIRE(shared);
  CHECK(shared->written_bytes() == 48 * mib);

  const std::vector<Segment> segments = segments_of(shared->descriptor());
  REQUIRE(segments.size() == 2);
  std::set<std::size_t> all;
  for (const Segment& s : segments) {
    CHECK(s.bytes == 24 * mib);
    CHECK(std::is_sorted(s.indices.begin(), s.indices.end()));
    all.insert(s.indices.begin(), s.indices.end());
  }
  CHECK(all == std::set<std::size_t>{1, 2, 3, 4, 5, 6});

  const std::vector<Buffer> received = round_trip(*shared, frames);
  check_same_bytes(received, frames);
  // Two mappings, one per segment: each frame is a view of one of them.
  std::set<const void*> owners;
  for (std::size_t i = 1; i <= 6; ++i)
    owners.insert(received[i].owner().get());
  CHECK(owners.size() == 2);
}

TEST_CASE("writers get at least 16 MiB each, and whole frames", "[shared_memory][writers]") {
  SECTION("20 MiB in all: one writer, however many are offered") {
    const std::vector<Buffer> frames = frames_of({4 * mib, 4 * mib, 4 * mib, 4 * mib, 4 * mib});
    std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_shared_frame, 4);
    REQUIRE(shared);
    CHECK(segments_of(shared->descriptor()).size() == 1);
    check_same_bytes(round_trip(*shared, frames), frames);
  }
  SECTION("40 MiB in all: two of the four offered") {
    const std::vector<Buffer> frames = frames_of({10 * mib, 10 * mib, 10 * mib, 10 * mib});
    std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_shared_frame, 4);
    REQUIRE(shared);
    CHECK(segments_of(shared->descriptor()).size() == 2);
    check_same_bytes(round_trip(*shared, frames), frames);
  }
  SECTION("one 40 MiB frame is not split") {
    const std::vector<Buffer> frames = frames_of({40 * mib});
    std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_shared_frame, 2);
    REQUIRE(shared);
    CHECK(segments_of(shared->descriptor()).size() == 1);
    check_same_bytes(round_trip(*shared, frames), frames);
  }
  SECTION("no writer count below one") {
    const std::vector<Buffer> frames = frames_of({20 * mib, 20 * mib});
    std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_shared_frame, 0);
    REQUIRE(shared);
    CHECK(segments_of(shared->descriptor()).size() == 1);
  }
}

TEST_CASE("a writer that fails takes every segment of the put with it",
          "[shared_memory][writers]") {
  // In a child process, whose file size limit lets the 17 MiB segment be
  // written and stops the 30 MiB one at 20 MiB (EFBIG, SIGXFSZ ignored).
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const rlimit limit{20 * mib, 20 * mib};
    ::signal(SIGXFSZ, SIG_IGN);
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(10);
    try {
      SharedFrames::prepare(frames_of({30 * mib, 17 * mib}), min_shared_frame, 2);
      ::_exit(11);  // no error
    } catch (const cannery::error& e) {
      if (e.code() != cannery::errc::io_error) ::_exit(12);
    } catch (...) {
      ::_exit(13);
    }
    ::_exit(cannery::test::segments_of_process(::getpid()) == 0 ? 0 : 14);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  // 11: no error; 12: another code; 13: not a cannery::error; 14: segments left.
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("move_into leaves views of the segments where the written frames were",
          "[shared_memory][writers]") {
  std::vector<Buffer> frames = frames_of({20 * mib, 20 * mib});
  const std::vector<Buffer> expected = frames_of({20 * mib, 20 * mib});
  const std::weak_ptr<const void> first = frames[1].owner();
  const std::weak_ptr<const void> second = frames[2].owner();
  const std::byte* small = frames[3].data();

  std::optional<SharedFrames> shared = SharedFrames::move_into(frames, min_shared_frame, 2);
  REQUIRE(shared);
  CHECK(segments_of(shared->descriptor()).size() == 2);
  // The originals were freed by the writers; their bytes are in the segments.
  CHECK(first.expired());
  CHECK(second.expired());
  check_same_bytes(frames, expected);
  CHECK(frames[3].data() == small);  // below the threshold: left alone
  // A receiver still finds them through the descriptor.
  check_same_bytes(round_trip(*shared, frames), expected);
}
