#pragma once
// Helpers shared by the test files.

#include <unistd.h>
#include <cannery/canning.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
