#pragma once
// Helpers shared by the test files.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cannery/canning.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace cannery::test {

// The frames as a receiver sees them: copies in fresh memory, as after a
// trip through a socket.
inline std::vector<Buffer> wire(const std::vector<Buffer>& frames) {
  std::vector<Buffer> received;
  received.reserve(frames.size());
  for (const auto& f : frames)
    received.push_back(Buffer::copy_of(f.data(), f.size()));
  return received;
}

// An object serialized, sent over the wire (wire()) and deserialized; checks
// that no frames are left over.
template <class T>
T round_trip(const T& value, const SerializeOptions& options = {}) {
  const std::vector<Buffer> frames = wire(serialize_object(value, options));
  auto [out, rest] = deserialize_object<T>(frames);
  CHECK(rest.empty());
  return out;
}

// `p` as an untyped address, for comparing where views point.
inline const void* addr(const void* p) {
  return p;
}

inline constexpr std::size_t mib = std::size_t{1} << 20;

// `size` bytes counting up from `seed` (wrapping at 256).
inline Buffer filled(std::size_t size, unsigned char seed) {
  std::vector<unsigned char> bytes(size);
  std::iota(bytes.begin(), bytes.end(), seed);
  return Buffer::take(std::move(bytes));
}

// The permission bits of `path`.
inline unsigned file_mode(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode & 0777);
}

// Whether a shared-memory segment of that name exists.
inline bool segment_exists(const std::string& name) {
  const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// An integer Object as decimal text, whether held as int64 or uint64: for
// comparing integers by value.
inline std::string integer_text(const Object& value) {
  try {
    return std::to_string(value.to_int64());
  } catch (const error&) {
    return std::to_string(value.to_uint64());  // above int64
  }
}

// The whole of a file, as bytes ("" when it cannot be read).
inline std::string contents_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Whether `p` points into the bytes of `b` (proof that a view is zero copy).
inline bool inside(const void* p, const Buffer& b) {
  const auto* q = static_cast<const std::byte*>(p);
  return q >= b.data() && q < b.data() + b.size();
}

// The cannery::error that `f` throws; fails the test when it throws none.
template <class F>
error capture_error(F&& f) {
  try {
    f();
  } catch (const error& e) {
    return e;
  }
  FAIL("expected a cannery::error");
  throw std::logic_error("unreachable");
}

// Each frame to a file of its own in `dir`, 0000.bin, 0001.bin, ... (for a
// program in another language to read them in order).
inline void write_frame_files(const std::filesystem::path& dir, const std::vector<Buffer>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04zu.bin", i);
    std::ofstream(dir / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(frames[i].data()),
               static_cast<std::streamsize>(frames[i].size()));
  }
}

// n doubles start, start + 0.5, start + 1, ...
// Whether every process of `pids` has ended (is gone, reaped or not a
// child of ours) within `timeout`.
inline bool processes_gone_within(const std::vector<int>& pids, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int pid : pids) {
    while (::kill(pid, 0) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

// Whether `command`, run by sh, exits with status 0.
inline bool command_succeeds(const std::string& command) {
  return std::system(command.c_str()) == 0;
}

inline std::vector<double> ramp(std::size_t n, double start = 0.0) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = start + 0.5 * static_cast<double>(i);
  return v;
}

// 0, 1, 2, ..., n - 1, and their sum (exact in a double below 2^26 values).
inline std::vector<double> iota_doubles(std::size_t n) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  return v;
}
constexpr double iota_sum(std::size_t n) {
  return static_cast<double>(n) * static_cast<double>(n - 1) / 2;
}

// A fresh directory under the system temporary directory, removed with all
// it holds at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cannery-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Shared-memory segments in /dev/shm that process `pid` made (they are
// named cannery-<pid namespace>-<pid>-<random>).
inline std::size_t segments_of_process(pid_t pid) {
  const std::string marker = "-" + std::to_string(pid) + "-";
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("cannery-") && name.find(marker) != std::string::npos) ++n;
  }
  return n;
}

}  // namespace cannery::test
