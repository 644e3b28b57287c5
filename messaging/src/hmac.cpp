#include "cannery/messaging/hmac.hpp"

#include <sodium.h>

#include "cannery/canning/error.hpp"

namespace cannery {
namespace {

void require_sodium() {
  static const int ready = sodium_init();
  if (ready < 0) throw error(errc::io_error, "libsodium failed to initialise");
}

template <std::size_t N>
std::string to_hex(const std::array<unsigned char, N>& bytes) {
  std::string hex(2 * N + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), N);
  hex.pop_back();
  return hex;
}

}  // namespace

// Keyed once; each message copies the state instead of re-hashing the key
// pads, which saves two SHA-256 blocks per message.
struct Signer::State {
  crypto_auth_hmacsha256_state keyed;
};

Signer::Signer(std::string_view key) {
  require_sodium();
  if (key.empty()) return;
  state_ = std::make_unique<State>();
  crypto_auth_hmacsha256_init(&state_->keyed, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
}

Signer::~Signer() = default;
Signer::Signer(Signer&&) noexcept = default;
Signer& Signer::operator=(Signer&&) noexcept = default;

std::string Signer::sign(std::span<const Buffer> signed_frames) const {
  if (!state_) return {};
  crypto_auth_hmacsha256_state state = state_->keyed;
  for (const Buffer& frame : signed_frames) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(frame.data()),
                                  frame.size());
  }
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  return to_hex(mac);
}

bool Signer::verify(std::span<const Buffer> signed_frames, std::string_view signature) const {
  if (!state_) return signature.empty();
  const std::string expected = sign(signed_frames);
  // The length is public (always 64); the contents are compared in constant time.
  return signature.size() == expected.size() &&
         sodium_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

std::string buffer_digest(const Buffer& buffer) {
  require_sodium();
  std::array<unsigned char, 32> digest{};
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(buffer.data()), buffer.size(), nullptr,
                     0);
  return to_hex(digest);
}

}  // namespace cannery
