// `auto`: per dtype, compress with what shrinks a sample most (LZ4, or Blosc
// + LZ4 for arrays of wide items), stop trying a dtype that does not, and
// sample it again after LinkCompression::skip_frames frames of it.

#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "compression_support.hpp"
#include "test_support.hpp"

using cannery::Codec;
using cannery::test::codecs_of;
using cannery::test::message_of;
using cannery::test::through_link;

namespace {

// Counts below 1000 in random order: Blosc's shuffle shrinks them most.
std::vector<std::int64_t> small_counts(std::size_t n) {
  std::mt19937_64 engine(3);
  std::uniform_int_distribution<std::int64_t> count(0, 999);
  std::vector<std::int64_t> v(n);
  for (auto& x : v)
    x = count(engine);
  return v;
}

}  // namespace

TEST_CASE("auto picks the smaller of LZ4 and Blosc for arrays and LZ4 for bytes", "[compression]") {
  auto link = cannery::test::compressor(Codec::automatic);
  const std::vector<std::int64_t> counts = small_counts(100000);  // shuffled, they shrink most
  const std::vector<std::byte> text(200000, std::byte{'a'});
  const std::vector<double> field = cannery::test::smooth_field(100000);
  const cannery::test::LinkResult sent = through_link(message_of(counts, text, field), link);
  const cannery::Message& m = sent.message;
  const std::vector<std::string> codecs = codecs_of(sent);
  REQUIRE(codecs.size() == 3);
  CHECK(codecs[0] == "blosc_lz4");
  CHECK(codecs[1] == "lz4");
  CHECK((codecs[2] == "lz4" || codecs[2] == "blosc_lz4"));
  CHECK(link->stats().samples == 3);
  auto first = cannery::deserialize_object<std::vector<std::int64_t>>(m.buffers);
  CHECK(first.value == counts);
  auto second = cannery::deserialize_object<std::vector<std::byte>>(first.remaining);
  CHECK(second.value == text);
  CHECK(cannery::deserialize_object<std::vector<double>>(second.remaining).value == field);
}

TEST_CASE("auto gives up on random doubles after sampling them and tries again later",
          "[compression]") {
  cannery::LinkCompression options;
  options.codec = Codec::automatic;
  options.min_bytes = 1024;
  options.skip_frames = 3;
  auto link = std::make_shared<cannery::FrameCompressor>(options);
  const std::vector<double> noise = cannery::test::random_doubles(200000);
  const std::vector<std::int64_t> counts = small_counts(200000);

  // The first random frame is sampled (1 MiB of it), found not to shrink,
  // and sent as it is; so are the next three, without a sample.
  for (int i = 0; i < 4; ++i) {
    const cannery::test::LinkResult sent = through_link(message_of(noise), link);
    CHECK(codecs_of(sent).empty());
    CHECK(cannery::deserialize_object<std::vector<double>>(sent.message.buffers).value == noise);
  }
  CHECK(link->stats().samples == 1);
  CHECK(link->stats().frames_compressed == 0);
  CHECK(link->stats().frames_sent_raw == 4);
  CHECK(link->stats().bytes_in == 0);  // nothing compressed whole

  // Another dtype in the same messages is judged on its own.
  const cannery::test::LinkResult mixed = through_link(message_of(counts, noise), link);
  CHECK(codecs_of(mixed) == std::vector<std::string>{"blosc_lz4"});
  CHECK(link->stats().samples == 3);  // <i8 sampled, and <f8 again after its 3 skips

  // Data that changes: once the doubles compress, the next sample says so.
  const std::vector<double> field = cannery::test::smooth_field(200000);
  for (int i = 0; i < 3; ++i)
    through_link(message_of(field), link);  // skipped: the verdict on <f8 stands
  const cannery::test::LinkResult later = through_link(message_of(field), link);
  CHECK(codecs_of(later).size() == 1);
  CHECK(cannery::deserialize_object<std::vector<double>>(later.message.buffers).value == field);
}
