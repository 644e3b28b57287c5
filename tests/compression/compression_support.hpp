#pragma once
// Arrays that compress well or not at all, and a session pair that moves a
// message through serialize / deserialize as a link would.

#include <cannery/controller.hpp>
#include <cannery/messaging.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace cannery::test {

// A smooth field, as simulations write: a sum of sines on a grid, values
// kept to 4 decimals (what most instruments and many outputs resolve).
inline std::vector<double> smooth_field(std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(i) * 1e-4;
    v[i] = std::round((std::sin(x) + 0.5 * std::sin(3.1 * x)) * 1e4) / 1e4;
  }
  return v;
}

// Doubles of full entropy: no codec shrinks them.
inline std::vector<double> random_doubles(std::size_t n, unsigned seed = 7) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> v(n);
  for (double& x : v)
    x = uniform(engine);
  return v;
}

// One canned object per value, as one message's buffers; they borrow the
// values' memory (keep the values alive while the frames are used).
template <class... T>
std::vector<Buffer> message_of(const T&... values) {
  std::vector<Buffer> frames;
  (can(values).append_to(frames), ...);
  return frames;
}

// A message sent over a link: what the receiving session made of it, and
// the codings the sender's metadata listed (empty: nothing was compressed).
struct LinkResult {
  Message message;
  Object::List codings;
};

// `buffers` sent by one session with `compressor` (nullptr: none) and
// received by another.
inline LinkResult through_link(const std::vector<Buffer>& buffers,
                               std::shared_ptr<FrameCompressor> compressor,
                               SessionOptions receiver_options = {}) {
  SessionOptions sender_options;
  sender_options.key = "compression-test-key";
  receiver_options.key = sender_options.key;
  Session sender(sender_options);
  Session receiver(receiver_options);
  Message m = sender.message("apply_request");
  m.buffers = buffers;
  m.compressor = std::move(compressor);
  std::vector<Buffer> wire;
  for (const Buffer& f : sender.serialize(m))
    wire.push_back(Buffer::copy_of(f.data(), f.size()));  // fresh memory, as from a socket
  LinkResult result;
  // [delimiter, signature, header, parent_header, metadata, content, ...]
  const Object metadata = unpack_plain(wire.at(4));
  if (const Object* codings = metadata.find(codings_key)) result.codings = codings->to_list();
  result.message = receiver.deserialize(std::move(wire));
  return result;
}

// The codec of each compressed frame.
inline std::vector<std::string> codecs_of(const LinkResult& sent) {
  std::vector<std::string> names;
  for (const Object& c : sent.codings)
    names.push_back(c.at("codec").to_string());
  return names;
}

inline std::shared_ptr<FrameCompressor> compressor(Codec codec, std::size_t min_bytes = 1024) {
  LinkCompression options;
  options.codec = codec;
  options.min_bytes = min_bytes;
  return std::make_shared<FrameCompressor>(options);
}

}  // namespace cannery::test
