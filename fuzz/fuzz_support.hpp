#pragma once
// What every fuzz target shares: how one fuzz input becomes frames.
//
// Framing: the input is cut at every occurrence of the 4-byte separator
// "\xc1FRM" (0xc1 is the one byte msgpack never uses, so a separator never
// occurs inside a header frame except within a str or bin); the pieces, in
// order, are the frames (an input without a separator is one frame, an input
// that ends with one has an empty last frame). Each frame is copied into an
// allocation of exactly its size, 16-byte aligned, as a received zmq frame
// realigned by the Session would be: the library may view it in place, and
// AddressSanitizer sees a read one byte past any frame.
//
// The separator is in fuzz/msgpack.dict, so mutations add and remove frame
// boundaries; fuzz/make_corpus.cpp writes seeds in this framing.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/options.hpp"

namespace cannery::fuzz {

inline constexpr std::string_view separator{
    "\xc1"
    "FRM",
    4};

// A frame of its own: exactly `size` bytes, 16-byte aligned.
inline Buffer exact_copy(const std::uint8_t* data, std::size_t size) {
  struct Free {
    void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{16}); }
  };
  std::shared_ptr<std::byte> owner(
      static_cast<std::byte*>(::operator new[](size, std::align_val_t{16})), Free{});
  if (size != 0) std::memcpy(owner.get(), data, size);
  const std::byte* bytes = owner.get();
  return Buffer(bytes, size, std::shared_ptr<const void>(std::move(owner)));
}

inline std::vector<Buffer> split_frames(const std::uint8_t* data, std::size_t size) {
  std::vector<Buffer> frames;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = input.find(separator, start);
    const std::size_t end = at == std::string_view::npos ? size : at;
    frames.push_back(exact_copy(data + start, end - start));
    if (at == std::string_view::npos) break;
    start = at + separator.size();
  }
  return frames;
}

// The bytes of one frame as a fuzz input writes them (for the corpus).
inline void append_framed(std::vector<std::uint8_t>& out, std::span<const Buffer> frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i != 0) out.insert(out.end(), separator.begin(), separator.end());
    const auto* p = reinterpret_cast<const std::uint8_t*>(frames[i].data());
    out.insert(out.end(), p, p + frames[i].size());
  }
}

// True when `needle` occurs in the input.
inline bool contains(const std::uint8_t* data, std::size_t size, std::string_view needle) {
  return std::string_view(reinterpret_cast<const char*>(data), size).find(needle) !=
         std::string_view::npos;
}

// An invariant of the library broke on this input: report and abort, so
// that libFuzzer saves the input as a crash.
[[noreturn]] inline void invariant_failed(const char* what, const char* detail = "") {
  std::fprintf(stderr, "cannery fuzz: INVARIANT BROKEN: %s%s%s\n", what, *detail ? ": " : "",
               detail);
  std::abort();
}

// The receiving limits of the targets: the library's defaults.
inline Limits limits() {
  return Limits{};
}

}  // namespace cannery::fuzz
