#pragma once
// Compression of large buffer frames on slow links (docs/messaging.md,
// "Compression").
//
// A sender gives a message a FrameCompressor for the link it goes over
// (Message::compressor). Each buffer frame of at least
// LinkCompression::min_bytes is then compressed and sent in place of the
// frame, and the message's signed metadata lists every such frame with its
// codec and its exact size (`cannery.codings`, docs/wire-format.md). The
// receiving Session puts the frames back before anyone reads the buffers:
// receivers that view arrays (spans, Eigen::Map) view the decompressed frame,
// which is allocated once and aligned. It checks each declared size against
// its limits before allocating anything, and refuses a frame that does not
// decompress to exactly its declared size.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"

namespace cannery {

// What a link compresses with. The first five are codecs, named so on the
// wire; `automatic` ("auto") picks one per dtype and stops compressing a
// dtype that does not shrink.
enum class Codec {
  none,
  lz4,         // LZ4 block format (liblz4)
  zstd,        // a Zstandard frame (libzstd)
  blosc_lz4,   // Blosc 1: byte shuffle by item size, then LZ4 (libblosc)
  blosc_zstd,  // Blosc 1: byte shuffle by item size, then Zstandard
  automatic,   // per dtype, lz4 or blosc_lz4, whichever shrinks a sample more; or none
};
// "none", "lz4", "zstd", "blosc_lz4", "blosc_zstd", "auto".
std::string_view to_string(Codec codec) noexcept;
// The codec named so; nullopt for an unknown name.
std::optional<Codec> codec_from_string(std::string_view name) noexcept;
// The codecs a frame may be sent in (every one but none and automatic):
// what a receiver of this build decodes.
std::span<const Codec> wire_codecs() noexcept;

// How one link compresses. The default compresses nothing: shared memory,
// ipc and loopback never gain from it, and on a fast network it costs more
// CPU than it saves (docs/messaging.md says when it pays).
struct LinkCompression {
  Codec codec = Codec::none;
  // Frames smaller than this are sent as they are.
  std::size_t min_bytes = std::size_t{64} << 10;
  // The codec's level; 0 is its default (LZ4: acceleration 1, Zstandard: 1,
  // Blosc with LZ4: 5, Blosc with Zstandard: 1).
  int level = 0;
  // Blosc's threads per frame.
  int threads = 1;
  // `automatic`: each dtype is sampled, compressed with LZ4 and (arrays of
  // items wider than a byte) Blosc + LZ4; the smaller wins, and when neither
  // shrinks it below this fraction of its size it is sent as it is. The
  // verdict holds for the next `skip_frames` frames of that dtype, then it
  // is sampled again (data changes). Every frame is sent compressed only
  // when that made it smaller than this fraction.
  double worthwhile_fraction = 0.9;
  std::size_t skip_frames = 64;
};
// The options after checking them; throws cannery::error(invalid_argument)
// naming the field (a level out of the codec's range, threads < 1, ...).
LinkCompression checked(LinkCompression options);

// What a FrameCompressor did, for stats and benchmarks.
struct CompressionStats {
  std::uint64_t frames_compressed = 0;
  std::uint64_t bytes_in = 0;         // of the frames compressed
  std::uint64_t bytes_out = 0;        // what they became
  std::uint64_t frames_sent_raw = 0;  // large enough, but not worth it (or auto skipped them)
  std::uint64_t samples = 0;          // automatic: samples taken
};

// One link's sender side. Not thread-safe: one per link (a controller keeps
// one per remote engine), used by the thread that sends on it.
class FrameCompressor {
 public:
  explicit FrameCompressor(LinkCompression options);

  struct Compressed {
    // The frames to send: compressed ones, and the others shared, not copied.
    std::vector<Buffer> frames;
    // The `cannery.codings` list for the metadata (never empty).
    Object::List codings;
  };
  // nullopt when no frame was compressed: send `frames` as they are (a
  // message of small frames costs no copy of its list).
  std::optional<Compressed> compress(std::span<const Buffer> frames);

  const LinkCompression& options() const noexcept { return options_; }
  const CompressionStats& stats() const noexcept { return stats_; }

 private:
  // automatic: what a dtype's last sample chose (none: not worth it), and
  // for how many more of its frames before it is sampled again.
  struct Verdict {
    Codec codec = Codec::none;
    std::size_t frames_left = 0;
  };
  std::optional<Buffer> compress_one(const Buffer& frame, Codec codec, std::size_t item_size);
  Codec choose(const Buffer& frame, const std::string& dtype, std::size_t item_size);

  LinkCompression options_;
  CompressionStats stats_;
  std::map<std::string, Verdict, std::less<>> verdicts_;  // automatic: per dtype
};

// What a receiver accepts (SessionOptions::decompression).
struct DecompressionLimits {
  // Largest size one compressed frame may declare.
  std::size_t max_frame_bytes = std::size_t{4} << 30;
  // Largest total the compressed frames of one message may declare.
  std::size_t max_message_bytes = std::size_t{16} << 30;
};

// Compresses `frame` with `codec` (not none or automatic), the bytes
// grouped by `item_size` for Blosc. nullopt when the codec cannot take a
// frame this large (LZ4 and Blosc: about 2 GB) or the result would not be
// smaller.
std::optional<Buffer> compress_frame(const Buffer& frame, Codec codec, std::size_t item_size = 1,
                                     int level = 0, int threads = 1);
// Decompresses a frame that declares `size` bytes, into fresh memory
// aligned for views. Throws cannery::error(decompression_failed) when the
// bytes do not decompress to exactly `size`.
Buffer decompress_frame(const Buffer& frame, Codec codec, std::size_t size);

// Puts back the frames that `codings` (the metadata's `cannery.codings`)
// lists: checks every entry (an index of `buffers`, each at most once; a
// wire codec; declared sizes within `limits`, refused with limit_exceeded
// before anything is allocated), then replaces each such frame with its
// decompressed bytes. Throws malformed_message for a broken list.
void decompress_frames(const Object& codings, std::vector<Buffer>& buffers,
                       const DecompressionLimits& limits);

// The metadata key of the list.
inline constexpr std::string_view codings_key = "cannery.codings";

}  // namespace cannery
