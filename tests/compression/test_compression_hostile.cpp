// Hostile compressed frames: sizes beyond the receiver's limits are refused
// before anything is allocated, frames that decompress to another size (or
// not at all) are refused, broken codings lists are refused, and a refused
// message leaves its frames as they were.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "compression_support.hpp"
#include "test_support.hpp"

using cannery::Buffer;
using cannery::Codec;
using cannery::Object;
using cannery::test::capture_error;

namespace {

Object coding(std::uint64_t index, std::string codec, std::uint64_t size) {
  return Object::Dict{{"index", index}, {"codec", std::move(codec)}, {"size", size}};
}

// A message of one header and one frame, `frame`, whose codings say `codings`.
cannery::error refusal(const Buffer& frame, Object codings,
                       cannery::DecompressionLimits limits = {}) {
  std::vector<Buffer> buffers{Buffer::copy_of("header"), frame};
  return capture_error([&] { cannery::decompress_frames(codings, buffers, limits); });
}

Buffer zeros_compressed(Codec codec, std::size_t bytes) {
  std::vector<std::byte> zeros(bytes);
  auto packed = cannery::compress_frame(Buffer::take(std::move(zeros)), codec, 8);
  REQUIRE(packed);
  return *packed;
}

}  // namespace

TEST_CASE("a declared size beyond the limits is refused before anything is allocated",
          "[compression]") {
  const Buffer tiny = zeros_compressed(Codec::zstd, 4096);
  // A petabyte: allocating it would fail loudly, so a refusal proves the
  // check came first.
  cannery::error e = refusal(tiny, Object::List{coding(1, "zstd", std::uint64_t{1} << 50)});
  CHECK(e.code() == cannery::errc::limit_exceeded);
  CHECK_THAT(e.what(), Catch::Contains("max_frame_bytes") && Catch::Contains("before allocating"));

  cannery::DecompressionLimits limits;
  limits.max_frame_bytes = 1 << 20;
  limits.max_message_bytes = 1 << 20;
  e = refusal(tiny, Object::List{coding(1, "zstd", 2 << 20)}, limits);
  CHECK(e.code() == cannery::errc::limit_exceeded);
  // Several frames within the frame bound, over the message bound together.
  const Buffer mib = zeros_compressed(Codec::zstd, 1 << 20);
  std::vector<Buffer> buffers{mib, mib, mib};
  limits.max_frame_bytes = 1 << 20;
  limits.max_message_bytes = 2 << 20;
  e = capture_error([&] {
    cannery::decompress_frames(Object::List{coding(0, "zstd", 1 << 20), coding(1, "zstd", 1 << 20),
                                            coding(2, "zstd", 1 << 20)},
                               buffers, limits);
  });
  CHECK(e.code() == cannery::errc::limit_exceeded);
  CHECK_THAT(e.what(), Catch::Contains("max_message_bytes"));

  // Within the limits, but more than a frame of its size can hold with its
  // codec (LZ4: 255 bytes per byte, Zstandard: 32768): a lie, refused before
  // allocating the gigabyte.
  e = refusal(tiny, Object::List{coding(1, "zstd", std::uint64_t{1} << 30)});
  CHECK(e.code() == cannery::errc::decompression_failed);
  CHECK_THAT(e.what(), Catch::Contains("cannot hold that many"));
  const Buffer lz4_tiny = zeros_compressed(Codec::lz4, 4096);
  e = refusal(lz4_tiny, Object::List{coding(1, "lz4", lz4_tiny.size() * 256 + 8192)});
  CHECK(e.code() == cannery::errc::decompression_failed);
  CHECK_THAT(e.what(), Catch::Contains("cannot hold that many"));
}

TEST_CASE("a decompression bomb that understates its size is refused without overflow",
          "[compression]") {
  // 256 MiB of zeros shrink to almost nothing with every codec; declared as
  // 1 MiB, decompression stops at the declared size and the frame is refused.
  const Codec codec = GENERATE(Codec::lz4, Codec::zstd, Codec::blosc_lz4, Codec::blosc_zstd);
  INFO(cannery::to_string(codec));
  const Buffer bomb = zeros_compressed(codec, std::size_t{256} << 20);
  CHECK(bomb.size() < (std::size_t{4} << 20));
  const cannery::error e =
      refusal(bomb, Object::List{coding(1, std::string(cannery::to_string(codec)), 1 << 20)});
  CHECK(e.code() == cannery::errc::decompression_failed);
  CHECK_THAT(e.what(), Catch::Contains("declared to hold 1048576 bytes"));
}

TEST_CASE("a frame that decompresses to another size or not at all is refused", "[compression]") {
  const Codec codec = GENERATE(Codec::lz4, Codec::zstd, Codec::blosc_lz4, Codec::blosc_zstd);
  const std::string name(cannery::to_string(codec));
  INFO(name);
  const Buffer packed = zeros_compressed(codec, 100000);
  // Overstated: the frame holds fewer bytes than declared.
  CHECK(refusal(packed, Object::List{coding(1, name, 100001)}).code() ==
        cannery::errc::decompression_failed);
  CHECK(refusal(packed, Object::List{coding(1, name, 99999)}).code() ==
        cannery::errc::decompression_failed);
  // Garbage, truncated, and another codec's bytes.
  std::vector<std::byte> garbage(5000);
  for (std::size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<std::byte>(i * 131 + 7);
  CHECK(refusal(Buffer::take(std::move(garbage)), Object::List{coding(1, name, 100000)}).code() ==
        cannery::errc::decompression_failed);
  CHECK(refusal(packed.slice(0, packed.size() / 2), Object::List{coding(1, name, 100000)}).code() ==
        cannery::errc::decompression_failed);
  CHECK(refusal(Buffer(), Object::List{coding(1, name, 100000)}).code() ==
        cannery::errc::decompression_failed);
  const Codec other = codec == Codec::zstd ? Codec::lz4 : Codec::zstd;
  CHECK(refusal(zeros_compressed(other, 100000), Object::List{coding(1, name, 100000)}).code() ==
        cannery::errc::decompression_failed);
}

TEST_CASE("a broken codings list is refused naming what is wrong", "[compression]") {
  const Buffer packed = zeros_compressed(Codec::lz4, 100000);
  struct Case {
    Object codings;
    const char* says;
  };
  const std::vector<Case> cases{
      {Object("lz4"), "not a list"},
      {Object::List{Object(1)}, "not {index: int, codec: str, size: int}"},
      {Object::List{Object::Dict{{"index", 1}, {"codec", "lz4"}}}, "not {index"},
      {Object::List{coding(2, "lz4", 100000)}, "not one of this message's 2 buffer frames"},
      {Object::List{coding(1, "lz4", 100000), coding(1, "lz4", 100000)}, "listed twice"},
      {Object::List{Object::Dict{{"index", -1}, {"codec", "lz4"}, {"size", 100000}}},
       "not one of this message's"},
      {Object::List{Object::Dict{{"index", 1}, {"codec", "lz4"}, {"size", -5}}}, "negative"},
      {Object::List{coding(1, "gzip", 100000)}, "codec 'gzip'"},
      {Object::List{coding(1, "auto", 100000)}, "codec 'auto'"},
      {Object::List{coding(1, "none", 100000)}, "codec 'none'"},
  };
  for (const Case& c : cases) {
    INFO(c.says);
    const cannery::error e = refusal(packed, c.codings);
    CHECK(e.code() == cannery::errc::malformed_message);
    CHECK_THAT(e.what(), Catch::Contains(c.says) && Catch::Contains("cannery.codings"));
  }
}

TEST_CASE("a session refuses a message whose compressed frame is broken and keeps its frames",
          "[compression]") {
  cannery::SessionOptions options;
  options.key = "compression-test-key";
  cannery::Session sender(options);
  cannery::Session receiver(options);
  cannery::Message m = sender.message("apply_request");
  const std::vector<double> twos(50000, 2.0);
  m.buffers = cannery::test::message_of(twos);
  // The sender signs a codings list that lies about the size (a peer with
  // the key, or a broken one): the signature holds, the frame is refused.
  m.metadata =
      Object::Dict{{std::string(cannery::codings_key), Object::List{coding(1, "lz4", 400000)}}};
  std::vector<Buffer> frames = cannery::test::wire(sender.serialize(m));
  const std::size_t count = frames.size();
  const cannery::error e = capture_error([&] { receiver.deserialize(std::move(frames)); });
  CHECK(e.code() == cannery::errc::decompression_failed);
  CHECK(frames.size() == count);  // left whole, for the refusal log
  CHECK(frames.back().size() == 400000);
}
