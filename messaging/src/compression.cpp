#include "cannery/messaging/compression.hpp"

#include <blosc.h>
#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <limits>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/canning/frame_types.hpp"

namespace cannery {
namespace {

constexpr std::array<std::pair<Codec, std::string_view>, 6> codec_names{{
    {Codec::none, "none"},
    {Codec::lz4, "lz4"},
    {Codec::zstd, "zstd"},
    {Codec::blosc_lz4, "blosc_lz4"},
    {Codec::blosc_zstd, "blosc_zstd"},
    {Codec::automatic, "auto"},
}};

constexpr std::array<Codec, 4> wire{Codec::lz4, Codec::zstd, Codec::blosc_lz4, Codec::blosc_zstd};

bool is_wire(Codec codec) noexcept {
  return std::find(wire.begin(), wire.end(), codec) != wire.end();
}

bool is_blosc(Codec codec) noexcept {
  return codec == Codec::blosc_lz4 || codec == Codec::blosc_zstd;
}

// Largest frame each codec takes in one call; larger frames go as they are.
std::size_t largest_input(Codec codec) noexcept {
  switch (codec) {
    case Codec::lz4:
      return LZ4_MAX_INPUT_SIZE;
    case Codec::blosc_lz4:
    case Codec::blosc_zstd:
      return BLOSC_MAX_BUFFERSIZE;
    default:
      return std::numeric_limits<std::size_t>::max();
  }
}

std::size_t bound_of(Codec codec, std::size_t size) {
  switch (codec) {
    case Codec::lz4:
      return static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(size)));
    case Codec::zstd:
      return ZSTD_compressBound(size);
    default:
      return size + BLOSC_MAX_OVERHEAD;
  }
}

// Compressed bytes written into `out` (capacity `capacity`); 0 when they
// did not fit.
std::size_t compress_into(const Buffer& frame, Codec codec, std::size_t item_size, int level,
                          int threads, std::byte* out, std::size_t capacity) {
  const auto* in = frame.data();
  switch (codec) {
    case Codec::lz4: {
      const int acceleration = level > 0 ? level : 1;
      const int written = LZ4_compress_fast(
          reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out),
          static_cast<int>(frame.size()),
          static_cast<int>(std::min<std::size_t>(capacity, INT_MAX)), acceleration);
      return written > 0 ? static_cast<std::size_t>(written) : 0;
    }
    case Codec::zstd: {
      const std::size_t written =
          ZSTD_compress(out, capacity, in, frame.size(), level > 0 ? level : 1);
      return ZSTD_isError(written) ? 0 : written;
    }
    case Codec::blosc_lz4:
    case Codec::blosc_zstd: {
      // Blosc shuffles items of 2 to 255 bytes; wider ones go as bytes.
      const std::size_t type_size = item_size <= BLOSC_MAX_TYPESIZE ? item_size : 1;
      // Blosc's level 5 is its default; with Zstandard it means Zstandard's
      // level 9, which compresses at a tenth of the speed of level 1 for a
      // few percent less.
      const int default_level = codec == Codec::blosc_lz4 ? 5 : 1;
      const int written = blosc_compress_ctx(
          level > 0 ? level : default_level, BLOSC_SHUFFLE, type_size, frame.size(), in, out,
          capacity, codec == Codec::blosc_lz4 ? BLOSC_LZ4_COMPNAME : BLOSC_ZSTD_COMPNAME, 0,
          threads);
      return written > 0 ? static_cast<std::size_t>(written) : 0;
    }
    default:
      return 0;
  }
}

// The most bytes a frame of `compressed` bytes can decompress to with
// `codec`: LZ4 encodes at most 255 bytes per byte of a match's length,
// Zstandard 128 KiB per 4-byte run-length block (Blosc wraps the same codecs
// in its own blocks). A declared size beyond it is a lie, refused before
// anything is allocated; the slack covers small frames' fixed overheads.
std::size_t most_decompressed(Codec codec, std::size_t compressed) {
  const std::size_t ratio = codec == Codec::lz4 || codec == Codec::blosc_lz4 ? 256 : 32768;
  constexpr std::size_t slack = 4096;
  if (compressed > (std::numeric_limits<std::size_t>::max() - slack) / ratio)
    return std::numeric_limits<std::size_t>::max();
  return compressed * ratio + slack;
}

// The highest LinkCompression::level of a codec: LZ4's acceleration,
// Zstandard's level, Blosc's (and auto's, which uses Blosc and LZ4) 9.
int highest_level(Codec codec) noexcept {
  switch (codec) {
    case Codec::lz4:
      return 65537;
    case Codec::zstd:
      return ZSTD_maxCLevel();
    default:
      return 9;
  }
}

[[noreturn]] void corrupt(Codec codec, std::size_t size, const std::string& why) {
  throw error(errc::decompression_failed,
              "a " + std::string(to_string(codec)) + " frame declared to hold " +
                  std::to_string(size) + " bytes " + why +
                  ": it was altered, or the sender's compressor is broken; the message is refused");
}

// An entry's count: a non-negative int (nullopt for anything else).
std::optional<std::uint64_t> count_of(const Object& value) {
  if (value.kind() != Object::Kind::integer) return std::nullopt;
  try {
    return value.to_uint64();
  } catch (const error&) {
    return std::nullopt;  // negative
  }
}

[[noreturn]] void malformed_codings(const std::string& what) {
  throw error(errc::malformed_message, std::string(codings_key) + ": " + what);
}

}  // namespace

std::string_view to_string(Codec codec) noexcept {
  for (const auto& [c, name] : codec_names)
    if (c == codec) return name;
  return "unknown";
}

std::optional<Codec> codec_from_string(std::string_view name) noexcept {
  for (const auto& [c, n] : codec_names)
    if (n == name) return c;
  return std::nullopt;
}

std::span<const Codec> wire_codecs() noexcept {
  return wire;
}

LinkCompression checked(LinkCompression options) {
  auto refuse = [](const std::string& what) {
    throw error(errc::invalid_argument, "LinkCompression: " + what);
  };
  if (options.min_bytes == 0) refuse("min_bytes is 0; give the smallest frame worth compressing");
  if (options.threads < 1 || options.threads > 64) refuse("threads must be 1 to 64");
  const int top = highest_level(options.codec);
  if (options.level < 0 || options.level > top) {
    refuse("level " + std::to_string(options.level) + " is outside 0.." + std::to_string(top) +
           " for " + std::string(to_string(options.codec)) + " (0: the codec's default)");
  }
  if (!(options.worthwhile_fraction > 0 && options.worthwhile_fraction <= 1))
    refuse("worthwhile_fraction must be in (0, 1]");
  return options;
}

std::optional<Buffer> compress_frame(const Buffer& frame, Codec codec, std::size_t item_size,
                                     int level, int threads) {
  if (!is_wire(codec)) {
    throw error(errc::invalid_argument, "compress_frame: '" + std::string(to_string(codec)) +
                                            "' is not a codec to send in");
  }
  if (frame.empty() || frame.size() > largest_input(codec)) return std::nullopt;
  // Not worth sending unless it saves at least a little: the capacity is the
  // frame's own size, and a codec that needs more gives up.
  const std::size_t capacity = std::min(bound_of(codec, frame.size()), frame.size() - 1);
  std::size_t written = 0;
  Buffer out = Buffer::allocate(capacity, [&](std::byte* data) {
    written = compress_into(frame, codec, item_size, level, threads, data, capacity);
  });
  if (written == 0) return std::nullopt;
  return out.slice(0, written);
}

Buffer decompress_frame(const Buffer& frame, Codec codec, std::size_t size) {
  const auto* in = frame.data();
  std::size_t produced = 0;
  if (codec == Codec::lz4 && (size > LZ4_MAX_INPUT_SIZE || frame.size() > INT_MAX))
    corrupt(codec, size, "is larger than an LZ4 block can be");
  if (is_blosc(codec)) {
    std::size_t declared = 0;
    if (blosc_cbuffer_validate(in, frame.size(), &declared) != 0)
      corrupt(codec, size, "is not a valid Blosc buffer");
    if (declared != size)
      corrupt(codec, size, "says in its Blosc header that it holds " + std::to_string(declared));
  }
  if (codec == Codec::zstd) {
    const unsigned long long declared = ZSTD_getFrameContentSize(in, frame.size());
    if (declared != size) corrupt(codec, size, "is not a Zstandard frame of that content size");
  }
  Buffer out = Buffer::allocate(size, [&](std::byte* data) {
    switch (codec) {
      case Codec::lz4: {
        const int n =
            LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(data),
                                static_cast<int>(frame.size()), static_cast<int>(size));
        produced = n < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(n);
        return;
      }
      case Codec::zstd: {
        const std::size_t n = ZSTD_decompress(data, size, in, frame.size());
        produced = ZSTD_isError(n) ? std::numeric_limits<std::size_t>::max() : n;
        return;
      }
      case Codec::blosc_lz4:
      case Codec::blosc_zstd: {
        const int n = size == 0 ? 0 : blosc_decompress_ctx(in, data, size, 1);
        produced = n < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(n);
        return;
      }
      default:
        produced = std::numeric_limits<std::size_t>::max();
    }
  });
  if (produced != size) corrupt(codec, size, "does not decompress to that size");
  return out;
}

FrameCompressor::FrameCompressor(LinkCompression options) : options_(checked(options)) {}

std::optional<Buffer> FrameCompressor::compress_one(const Buffer& frame, Codec codec,
                                                    std::size_t item_size) {
  return compress_frame(frame, codec, item_size, options_.level, options_.threads);
}

Codec FrameCompressor::choose(const Buffer& frame, const std::string& dtype,
                              std::size_t item_size) {
  if (options_.codec != Codec::automatic) return options_.codec;
  auto [it, fresh] = verdicts_.try_emplace(dtype);
  Verdict& verdict = it->second;
  if (!fresh && verdict.frames_left > 0) {
    --verdict.frames_left;
    return verdict.codec;
  }
  // Sample the frame's first MiB: enough to tell random bytes from
  // compressible ones, and little next to sending the frame. Arrays of wide
  // items try both LZ4 alone and after Blosc's shuffle: slowly varying
  // values (a smooth field, repeated) shrink more as they are, small
  // integers and noisy low bytes more shuffled.
  constexpr std::size_t sample_bytes = std::size_t{1} << 20;
  const Buffer sample = frame.slice(0, std::min(frame.size(), sample_bytes));
  ++stats_.samples;
  verdict = {Codec::none, options_.skip_frames};
  double best = options_.worthwhile_fraction;
  for (Codec candidate : {Codec::blosc_lz4, Codec::lz4}) {
    if (candidate == Codec::blosc_lz4 && item_size <= 1) continue;
    const std::optional<Buffer> packed = compress_one(sample, candidate, item_size);
    const double fraction =
        packed ? static_cast<double>(packed->size()) / static_cast<double>(sample.size()) : 1.0;
    if (fraction <= best) {
      best = fraction;
      verdict.codec = candidate;
    }
  }
  return verdict.codec;
}

std::optional<FrameCompressor::Compressed> FrameCompressor::compress(
    std::span<const Buffer> frames) {
  const bool any_large = std::any_of(frames.begin(), frames.end(), [&](const Buffer& f) {
    return f.size() >= options_.min_bytes;
  });
  if (options_.codec == Codec::none || !any_large) return std::nullopt;
  Compressed result;
  const std::vector<FrameType> types = frame_types(frames);
  result.frames.reserve(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const Buffer& frame = frames[i];
    if (frame.size() < options_.min_bytes || types[i].dtype == "header") {
      result.frames.push_back(frame);
      continue;
    }
    const Codec codec = choose(frame, types[i].dtype, types[i].item_size);
    std::optional<Buffer> packed;
    if (codec != Codec::none) packed = compress_one(frame, codec, types[i].item_size);
    const bool worthwhile =
        packed && static_cast<double>(packed->size()) <=
                      options_.worthwhile_fraction * static_cast<double>(frame.size());
    if (!worthwhile) {
      ++stats_.frames_sent_raw;
      result.frames.push_back(frame);
      continue;
    }
    ++stats_.frames_compressed;
    stats_.bytes_in += frame.size();
    stats_.bytes_out += packed->size();
    Object::Dict coding;
    coding.emplace("index", Object(static_cast<std::uint64_t>(i)));
    coding.emplace("codec", Object(std::string(to_string(codec))));
    coding.emplace("size", Object(static_cast<std::uint64_t>(frame.size())));
    result.codings.emplace_back(std::move(coding));
    result.frames.push_back(std::move(*packed));
  }
  if (result.codings.empty()) return std::nullopt;
  return result;
}

void decompress_frames(const Object& codings, std::vector<Buffer>& buffers,
                       const DecompressionLimits& limits) {
  if (codings.kind() != Object::Kind::list)
    malformed_codings("is a " + codings.kind_name() + ", not a list");
  const Object::List& entries = codings.to_list();
  struct Planned {
    std::size_t index;
    Codec codec;
    std::size_t size;
  };
  std::vector<Planned> plan;
  plan.reserve(entries.size());
  std::vector<bool> seen(buffers.size(), false);
  std::size_t total = 0;
  for (const Object& entry : entries) {
    const Object* index = entry.kind() == Object::Kind::dict ? entry.find("index") : nullptr;
    const Object* codec = entry.kind() == Object::Kind::dict ? entry.find("codec") : nullptr;
    const Object* size = entry.kind() == Object::Kind::dict ? entry.find("size") : nullptr;
    if (index == nullptr || codec == nullptr || size == nullptr ||
        index->kind() != Object::Kind::integer || size->kind() != Object::Kind::integer ||
        codec->kind() != Object::Kind::string) {
      malformed_codings("an entry is not {index: int, codec: str, size: int}");
    }
    const std::optional<std::uint64_t> i = count_of(*index);
    const std::optional<std::uint64_t> n = count_of(*size);
    if (!i || *i >= buffers.size() || seen[*i]) {
      malformed_codings("an index is not one of this message's " + std::to_string(buffers.size()) +
                        " buffer frames, or is listed twice");
    }
    seen[*i] = true;
    const std::optional<Codec> c = codec_from_string(codec->to_string());
    if (!c || !is_wire(*c))
      malformed_codings("codec '" + codec->to_string() + "' is not one this build decodes");
    if (!n) malformed_codings("a size is negative");
    if (*n > limits.max_frame_bytes) {
      throw error(errc::limit_exceeded,
                  "a compressed frame declares " + std::to_string(*n) +
                      " bytes, more than DecompressionLimits::max_frame_bytes (" +
                      std::to_string(limits.max_frame_bytes) + "); refused before allocating");
    }
    const Buffer& frame = buffers[static_cast<std::size_t>(*i)];
    if (*n > most_decompressed(*c, frame.size())) {
      corrupt(*c, static_cast<std::size_t>(*n),
              "is a frame of " + std::to_string(frame.size()) +
                  " bytes, which cannot hold that many; refused before allocating");
    }
    total += *n;
    if (total > limits.max_message_bytes) {
      throw error(errc::limit_exceeded,
                  "compressed frames declaring more than DecompressionLimits::max_message_bytes (" +
                      std::to_string(limits.max_message_bytes) +
                      ") in one message; refused before allocating");
    }
    plan.push_back({static_cast<std::size_t>(*i), *c, static_cast<std::size_t>(*n)});
  }
  for (const Planned& p : plan)
    buffers[p.index] = decompress_frame(buffers[p.index], p.codec, p.size);
}

}  // namespace cannery
