// What another local process of the same user (who can create files in
// /dev/shm, mode 1777, and may hold the key) can do with a segment named in a
// message: a FIFO, a file others may write, a file of another user, a file
// of another size are refused without blocking, and a segment truncated after
// it was mapped no longer ends the reader with SIGBUS.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cannery/messaging/shared_memory.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <future>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using cannery::Buffer;
using cannery::errc;

namespace {

// A name as cannery makes them (the checks are on the file, not the name).
std::string segment_name() {
  static int made = 0;
  return "/cannery-0-" + std::to_string(::getpid()) + "-dead" + std::to_string(++made);
}

// The descriptor of one segment holding frame 0 of `size` bytes at offset 0.
cannery::protocol::SharedMemoryDescriptor descriptor(const std::string& name, std::size_t size) {
  return {{.segment = name, .size = size, .frames = {{.index = 0, .offset = 0, .length = size}}}};
}

// A segment file as an attacker would make it: `mode`, `size` bytes of 1s.
void make_file(const std::string& name, mode_t mode, std::size_t size) {
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
  const std::vector<unsigned char> ones(size, 1);
  REQUIRE(::pwrite(fd, ones.data(), size, 0) == static_cast<ssize_t>(size));
  REQUIRE(::fchmod(fd, mode) == 0);
  ::close(fd);
}

// restore_shared_frames on another thread, bounded: a blocked open is a
// failure, not a hung test. The error's code, or nullopt when it accepted.
std::optional<errc> restore_within(const std::string& name, std::size_t size,
                                   std::vector<Buffer>& frames) {
  auto result = std::make_shared<std::promise<std::optional<errc>>>();
  auto answer = result->get_future();
  std::thread([result, name, size, &frames] {
    try {
      cannery::restore_shared_frames(descriptor(name, size), frames);
      result->set_value(std::nullopt);
    } catch (const cannery::error& e) {
      result->set_value(e.code());
    }
  }).detach();
  if (answer.wait_for(5s) != std::future_status::ready) {
    FAIL("restore_shared_frames blocked on " << name);
  }
  return answer.get();
}

struct Unlink {
  std::string name;
  ~Unlink() { ::shm_unlink(name.c_str()); }
};

}  // namespace

TEST_CASE("a FIFO named as a segment is refused without blocking", "[shared_memory][hostile]") {
  const Unlink file{segment_name()};
  REQUIRE(::mkfifo(("/dev/shm" + file.name).c_str(), 0600) == 0);
  std::vector<Buffer> frames{Buffer()};
  CHECK(restore_within(file.name, 16, frames) == errc::malformed_message);
  CHECK(frames.front().empty());
}

TEST_CASE("a segment others may write or of another user is refused", "[shared_memory][hostile]") {
  std::vector<Buffer> frames{Buffer()};
  SECTION("group or others may write or read it") {
    for (mode_t mode : {0644, 0660, 0606, 0640}) {
      INFO("mode " << std::oct << mode);
      const Unlink file{segment_name()};
      make_file(file.name, mode, 4096);
      CHECK(restore_within(file.name, 4096, frames) == errc::malformed_message);
    }
  }
  SECTION("another user's") {
    if (::geteuid() != 0) {
      WARN("skipped: only root can give a file to another user");
      return;
    }
    const Unlink file{segment_name()};
    make_file(file.name, 0600, 4096);
    REQUIRE(::chown(("/dev/shm" + file.name).c_str(), 65534, 65534) == 0);
    CHECK(restore_within(file.name, 4096, frames) == errc::malformed_message);
  }
  SECTION("another size than the message says") {
    const Unlink file{segment_name()};
    make_file(file.name, 0600, 4096);
    CHECK(restore_within(file.name, 8192, frames) == errc::malformed_message);
    // The right one is accepted: the checks refuse only what they should.
    CHECK(restore_within(file.name, 4096, frames) == std::nullopt);
    CHECK(frames.front().size() == 4096);
  }
}

TEST_CASE("a segment truncated after it was mapped reads as zeros and is reported",
          "[shared_memory][hostile]") {
  const Unlink file{segment_name()};
  constexpr std::size_t size = 1 << 20;
  make_file(file.name, 0600, size);
  std::vector<Buffer> frames{Buffer()};
  REQUIRE(restore_within(file.name, size, frames) == std::nullopt);
  const Buffer& frame = frames.front();
  auto sum = [&] {
    const auto* bytes = reinterpret_cast<const unsigned char*>(frame.data());
    return std::accumulate(bytes, bytes + frame.size(), std::size_t{0});
  };
  CHECK(sum() == size);
  CHECK_FALSE(cannery::damaged_segment(frames));
  const std::uint64_t seen = cannery::damaged_segments_seen();

  // Another process of this user truncates it: reading a lost page used to
  // end the reader with SIGBUS.
  const int fd = ::shm_open(file.name.c_str(), O_RDWR, 0);
  REQUIRE(fd >= 0);
  REQUIRE(::ftruncate(fd, 0) == 0);
  ::close(fd);
  CHECK(sum() == 0);
  CHECK(cannery::damaged_segment(frames) == file.name);
  CHECK(cannery::damaged_segments_seen() == seen + 1);
}
