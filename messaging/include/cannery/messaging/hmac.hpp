#pragma once
// Message signing as Jupyter does it: the lowercase hex HMAC-SHA256, keyed
// with the key string's bytes, of the header, parent_header, metadata and
// content frames, in that order. And per-buffer digests (BLAKE2b-256) for
// integrity of the buffer frames, which the HMAC does not cover.

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cannery/canning/buffer.hpp"

namespace cannery {

class Signer {
 public:
  // An empty key disables signing: sign() returns "" and verify() accepts "".
  explicit Signer(std::string_view key);
  ~Signer();
  Signer(Signer&&) noexcept;
  Signer& operator=(Signer&&) noexcept;

  static constexpr std::size_t signature_size = 64;  // hex characters

  bool enabled() const noexcept { return state_ != nullptr; }
  // 64 lowercase hex characters.
  std::string sign(std::span<const Buffer> signed_frames) const;
  // The same, written at `out`: where the message's signature frame will
  // be (Session places it beside the header, in one allocation). Throws
  // invalid_argument when signing is off.
  void sign_into(std::span<const Buffer> signed_frames, std::span<char, signature_size> out) const;
  // Constant-time comparison against the expected signature.
  bool verify(std::span<const Buffer> signed_frames, std::string_view signature) const;

 private:
  using Mac = std::array<unsigned char, 32>;  // HMAC-SHA256 output
  struct PrefixCache;
  Mac mac(std::span<const Buffer> signed_frames, PrefixCache& cache) const;

  struct State;  // the HMAC state after absorbing the key, and the caches
  std::unique_ptr<State> state_;
};

// BLAKE2b-256 of the bytes, 64 lowercase hex characters.
std::string buffer_digest(const Buffer& buffer);

}  // namespace cannery
