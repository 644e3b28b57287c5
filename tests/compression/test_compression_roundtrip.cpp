// Every codec round-trips every dtype through a pair of sessions; what it
// sends is smaller, what the receiver views is the decompressed frame itself.

#include <Eigen/Core>
#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <complex>
#include <cstdint>
#include <string>
#include <vector>

#include "compression_support.hpp"
#include "test_support.hpp"

using cannery::Codec;
using cannery::test::compressor;
using cannery::test::message_of;
using cannery::test::through_link;

namespace {

// n values of T that repeat every 16: compressible by every codec.
template <class T>
std::vector<T> periodic(std::size_t n) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<T>(static_cast<std::int8_t>(static_cast<int>(i % 16) - 5));
  }
  return v;
}

template <class T>
void round_trips(Codec codec) {
  const std::vector<T> values = periodic<T>(20000);
  const std::vector<cannery::Buffer> buffers = message_of(values, std::string("label"), values);
  auto link = compressor(codec);
  const cannery::test::LinkResult sent = through_link(buffers, link);
  const cannery::Message& m = sent.message;
  // Two large array frames compressed; the headers went as they were.
  REQUIRE(sent.codings.size() == 2);
  CHECK(sent.codings[0].at("codec").to_string() == cannery::to_string(codec));
  CHECK(sent.codings[0].at("size").to_uint64() == values.size() * sizeof(T));
  CHECK(link->stats().frames_compressed == 2);
  CHECK(link->stats().bytes_out < link->stats().bytes_in / 2);
  // And what arrives is what was sent.
  auto first = cannery::deserialize_object<std::vector<T>>(m.buffers);
  CHECK(first.value == values);
  auto label = cannery::deserialize_object<std::string>(first.remaining);
  CHECK(label.value == "label");
  CHECK(cannery::deserialize_object<std::vector<T>>(label.remaining).value == values);
}

}  // namespace

TEST_CASE("every codec round-trips every dtype through a session", "[compression]") {
  const Codec codec = GENERATE(Codec::lz4, Codec::zstd, Codec::blosc_lz4, Codec::blosc_zstd);
  INFO(cannery::to_string(codec));
  round_trips<std::int8_t>(codec);
  round_trips<std::uint8_t>(codec);
  round_trips<std::int16_t>(codec);
  round_trips<std::uint16_t>(codec);
  round_trips<std::int32_t>(codec);
  round_trips<std::uint32_t>(codec);
  round_trips<std::int64_t>(codec);
  round_trips<std::uint64_t>(codec);
  round_trips<float>(codec);
  round_trips<double>(codec);
  round_trips<std::complex<float>>(codec);
  round_trips<std::complex<double>>(codec);
}

TEST_CASE("out-of-band bytes and matrices round-trip compressed", "[compression]") {
  const Codec codec = GENERATE(Codec::lz4, Codec::zstd, Codec::blosc_lz4, Codec::blosc_zstd);
  INFO(cannery::to_string(codec));
  const std::vector<std::byte> bytes(100000, std::byte{42});
  Eigen::MatrixXd matrix(300, 200);
  for (Eigen::Index j = 0; j < matrix.cols(); ++j)
    for (Eigen::Index i = 0; i < matrix.rows(); ++i)
      matrix(i, j) = static_cast<double>((i + j) % 10);
  const cannery::test::LinkResult sent = through_link(message_of(bytes, matrix), compressor(codec));
  const cannery::Message& m = sent.message;
  REQUIRE(sent.codings.size() == 2);
  auto first = cannery::deserialize_object<std::vector<std::byte>>(m.buffers);
  CHECK(first.value == bytes);
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(first.remaining).value == matrix);
}

TEST_CASE("a receiver's views point into the decompressed frame", "[compression]") {
  const std::vector<double> field = cannery::test::smooth_field(50000);
  const cannery::test::LinkResult sent =
      through_link(message_of(field), compressor(Codec::blosc_lz4));
  const cannery::Message& m = sent.message;
  REQUIRE(sent.codings.size() == 1);
  REQUIRE(m.buffers.size() == 2);
  // A span and an Eigen::Map view the frame the session decompressed into:
  // no second copy, and aligned for doubles.
  const auto span = cannery::deserialize_object<std::span<const double>>(m.buffers).value;
  CHECK(span.data() == reinterpret_cast<const double*>(m.buffers[1].data()));
  CHECK(std::equal(span.begin(), span.end(), field.begin(), field.end()));
  using Map = Eigen::Map<const Eigen::VectorXd>;
  const Map map = cannery::deserialize_object<Map>(m.buffers).value;
  CHECK(map.data() == span.data());
  CHECK(reinterpret_cast<std::uintptr_t>(span.data()) % alignof(double) == 0);
}

TEST_CASE("a received message lists no codings and goes on through another session as is",
          "[compression]") {
  const std::vector<double> field = cannery::test::smooth_field(50000);
  const cannery::test::LinkResult sent = through_link(message_of(field), compressor(Codec::lz4));
  REQUIRE(sent.codings.size() == 1);
  // Its frames are decompressed: the metadata no longer says otherwise.
  CHECK(sent.message.metadata.find(cannery::codings_key) == nullptr);
  // Sent on uncompressed, it arrives as it was.
  const cannery::test::LinkResult forwarded = through_link(sent.message.buffers, nullptr);
  CHECK(forwarded.codings.empty());
  CHECK(cannery::deserialize_object<std::vector<double>>(forwarded.message.buffers).value == field);
}

TEST_CASE("small frames, headers and frames that do not shrink go as they are", "[compression]") {
  const std::vector<double> small(100, 1.0);                               // inlined in its header
  const std::vector<double> medium(2000, 1.0);                             // 16 KB, below min_bytes
  const std::vector<double> noise = cannery::test::random_doubles(20000);  // does not shrink
  auto link = compressor(Codec::lz4, 64 * 1024);
  const std::vector<cannery::Buffer> buffers = message_of(small, medium, noise);
  const cannery::test::LinkResult sent = through_link(buffers, link);
  const cannery::Message& m = sent.message;
  CHECK(sent.codings.empty());
  CHECK(link->stats().frames_compressed == 0);
  CHECK(link->stats().frames_sent_raw == 1);  // the noise: tried, not worth it
  CHECK(cannery::deserialize_object<std::vector<double>>(m.buffers).value == small);

  // Codec none and no compressor: nothing is compressed, nothing is listed.
  CHECK(through_link(buffers, compressor(Codec::none)).codings.empty());
  CHECK(through_link(buffers, nullptr).codings.empty());
}

TEST_CASE("digests are of the compressed bytes and checked before decompressing", "[compression]") {
  cannery::SessionOptions options;
  options.key = "compression-test-key";
  options.buffer_digests = true;
  cannery::Session sender(options);
  cannery::Session receiver(options);
  const std::vector<double> field = cannery::test::smooth_field(50000);
  cannery::Message m = sender.message("apply_request");
  m.buffers = message_of(field);
  m.compressor = compressor(Codec::zstd);
  const std::vector<cannery::Buffer> frames = sender.serialize(m);
  const cannery::Message got = receiver.deserialize(cannery::test::wire(frames));
  CHECK(cannery::deserialize_object<std::vector<double>>(got.buffers).value == field);

  // A compressed frame altered on the way: its digest says so, before any
  // codec reads it.
  std::vector<cannery::Buffer> altered = cannery::test::wire(frames);
  std::vector<std::byte> last(altered.back().data(), altered.back().data() + altered.back().size());
  last[last.size() / 2] ^= std::byte{1};
  altered.back() = cannery::Buffer::take(std::move(last));
  cannery::Session fresh_receiver(options);  // the first one would see a replay
  const cannery::error e =
      cannery::test::capture_error([&] { fresh_receiver.deserialize(std::move(altered)); });
  CHECK(e.code() == cannery::errc::digest_mismatch);
}

TEST_CASE("link compression options are checked and codecs are named", "[compression]") {
  for (Codec codec : cannery::wire_codecs())
    CHECK(cannery::codec_from_string(cannery::to_string(codec)) == codec);
  CHECK(cannery::codec_from_string("auto") == Codec::automatic);
  CHECK(cannery::codec_from_string("none") == Codec::none);
  CHECK_FALSE(cannery::codec_from_string("gzip"));

  cannery::LinkCompression bad;
  bad.codec = Codec::zstd;
  bad.level = 99;
  auto e = cannery::test::capture_error([&] { cannery::FrameCompressor compressor(bad); });
  CHECK(e.code() == cannery::errc::invalid_argument);
  CHECK_THAT(e.what(), Catch::Contains("level 99") && Catch::Contains("zstd"));
  bad = {};
  bad.threads = 0;
  e = cannery::test::capture_error([&] { cannery::FrameCompressor compressor(bad); });
  CHECK_THAT(e.what(), Catch::Contains("threads"));

  cannery::ControllerOptions options;
  options.compression.codec = Codec::lz4;
  options.compression.min_bytes = 0;
  e = cannery::test::capture_error([&] { cannery::Controller controller(options); });
  CHECK_THAT(e.what(),
             Catch::Contains("ControllerOptions::compression") && Catch::Contains("min_bytes"));
}
