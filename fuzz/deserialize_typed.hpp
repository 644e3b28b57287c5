#pragma once
// The body of every typed deserialize_object<T> target: the frames of the
// input (fuzz_support.hpp) read as consecutive objects of type T, the way a
// receiver loops over a message. Every object accepted is sent again
// (serialize_object) and read back: what a receiver accepted, it must be able
// to forward. Only cannery::error may leave the library (DESIGN.md, "every
// failure on received bytes is one of these, never a crash"): any other
// exception escapes this function and libFuzzer reports it as a crash.

#include <string>
#include <type_traits>

#include "cannery/canning.hpp"
#include "fuzz_support.hpp"

namespace cannery::fuzz {

// At most this many objects per input: each consumes at least one frame.
inline constexpr int max_objects = 64;

template <class T>
void check_resend(const T& value) {
  if constexpr (cannable<T> && std::is_default_constructible_v<T>) {
    std::vector<Buffer> frames = serialize_object(value);
    try {
      auto again = deserialize_object<T>(frames, limits());
      if (!again.remaining.empty()) invariant_failed("re-sent object left frames over");
    } catch (const error& e) {
      invariant_failed("an accepted object could not be read back once re-sent", e.what());
    }
  }
}

// Reads the input's frames as T, then the same frames as each of Also...
// (other views of the same wire types).
template <class T, class... Also>
int deserialize_typed(const std::uint8_t* data, std::size_t size) {
  const std::vector<Buffer> frames = split_frames(data, size);
  auto read_all = [&]<class U>(U*) {
    std::span<const Buffer> rest = frames;
    for (int i = 0; i < max_objects && !rest.empty(); ++i) {
      try {
        auto [value, remaining] = deserialize_object<U>(rest, limits());
        rest = remaining;
        check_resend(value);
      } catch (const error&) {
        return;
      }
    }
  };
  read_all(static_cast<T*>(nullptr));
  (read_all(static_cast<Also*>(nullptr)), ...);
  return 0;
}

}  // namespace cannery::fuzz
