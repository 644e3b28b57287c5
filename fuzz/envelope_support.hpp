#pragma once
// Signing for the targets that get past the envelope's signature: the
// harness plays a peer holding the key, as a controller or engine would.

#include <array>
#include <string>
#include <vector>

#include "cannery/messaging.hpp"
#include "fuzz_support.hpp"

namespace cannery::fuzz {

// The key of every target's sessions (as a connection file would give it).
inline const std::string key = "cannery-fuzz-key-0123456789abcdef";

inline SessionOptions session_options() {
  SessionOptions options;
  options.key = key;
  options.log_sink = [](std::string_view) {};  // refusals are what these targets cause
  // What compressed frames may declare: a receiver's limits are what bound
  // the memory a small compressed frame can cost (docs/messaging.md,
  // "Compression"); these keep it within the memory allowed per input.
  options.decompression.max_frame_bytes = std::size_t{16} << 20;
  options.decompression.max_message_bytes = std::size_t{24} << 20;
  return options;
}

// [identities..., "<IDS|MSG>", signature, header, parent, metadata, content,
// buffers...] with the HMAC of the four dicts made with `key`.
inline std::vector<Buffer> signed_frames(const std::vector<Buffer>& identities,
                                         const std::array<Buffer, 4>& dicts,
                                         std::span<const Buffer> buffers) {
  static const Signer signer(key);
  const std::string signature = signer.sign(dicts);
  std::vector<Buffer> frames(identities);
  frames.push_back(Buffer::copy_of(delimiter));
  frames.push_back(Buffer::copy_of(signature));
  frames.insert(frames.end(), dicts.begin(), dicts.end());
  frames.insert(frames.end(), buffers.begin(), buffers.end());
  return frames;
}

}  // namespace cannery::fuzz
