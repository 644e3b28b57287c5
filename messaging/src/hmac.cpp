#include "cannery/messaging/hmac.hpp"

#include <nettle/hmac.h>
#include <sodium.h>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/detail/hex.hpp"

namespace cannery {
namespace {

void require_sodium() {
  static const int ready = sodium_init();
  if (ready < 0) throw error(errc::io_error, "libsodium failed to initialise");
}

// Lowercase hex on the stack: verify() compares it in place.
template <std::size_t N>
std::array<char, 2 * N> to_hex(const std::array<unsigned char, N>& bytes) {
  std::array<char, 2 * N> hex;
  detail::write_hex(std::as_bytes(std::span(bytes)), hex.data());
  return hex;
}

}  // namespace

// Nettle, not libsodium, computes the HMAC: libsodium's SHA-256 is portable
// C, while Nettle picks the CPU's SHA instructions at run time (4x faster on
// a 200-byte header, measured in bench_messaging's hmac_sign). Keyed once;
// each message copies the state instead of re-hashing the key pads.
struct Signer::State {
  hmac_sha256_ctx keyed;
};

Signer::Signer(std::string_view key) {
  require_sodium();
  if (key.empty()) return;
  state_ = std::make_unique<State>();
  hmac_sha256_set_key(&state_->keyed, key.size(),
                      reinterpret_cast<const std::uint8_t*>(key.data()));
}

Signer::~Signer() = default;
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;

Signer::Mac Signer::mac(std::span<const Buffer> signed_frames) const {
  hmac_sha256_ctx state = state_->keyed;
  for (const Buffer& frame : signed_frames) {
    hmac_sha256_update(&state, frame.size(), reinterpret_cast<const std::uint8_t*>(frame.data()));
  }
  Mac mac{};
  hmac_sha256_digest(&state, mac.size(), mac.data());
  return mac;
}

Buffer Signer::signature_frame(std::span<const Buffer> signed_frames) const {
  if (!state_) return {};
  const auto hex = to_hex(mac(signed_frames));
  return Buffer::copy_of(hex.data(), hex.size());
}

std::string Signer::sign(std::span<const Buffer> signed_frames) const {
  return std::string(signature_frame(signed_frames).as_string_view());
}

bool Signer::verify(std::span<const Buffer> signed_frames, std::string_view signature) const {
  if (!state_) return signature.empty();
  // Jupyter compares the hex text, so this does too: only the exact form
  // (64 lowercase digits) verifies. The length is public; the contents are
  // compared in constant time. (Decoding the received text instead measured
  // slower: libsodium's hex2bin costs more than encoding.)
  static_assert(crypto_verify_64_BYTES == 2 * SHA256_DIGEST_SIZE);
  if (signature.size() != crypto_verify_64_BYTES) return false;
  const auto expected_hex = to_hex(mac(signed_frames));
  return crypto_verify_64(reinterpret_cast<const unsigned char*>(signature.data()),
                          reinterpret_cast<const unsigned char*>(expected_hex.data())) == 0;
}

std::string buffer_digest(const Buffer& buffer) {
  require_sodium();
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(buffer.data()), buffer.size(), nullptr,
                     0);
  return detail::hex(std::as_bytes(std::span(digest)));
}

}  // namespace cannery
