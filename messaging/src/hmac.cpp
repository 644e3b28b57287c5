#include "cannery/messaging/hmac.hpp"

#include <nettle/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstring>

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
// a 200-byte header, measured as bench_messaging's hmac_sign_new_header). Keyed once;
// each message copies the state instead of re-hashing the key pads.
//
// The headers one peer sends begin with the same bytes (Session packs the
// session id, username, version and message type first, and msg_id's
// constant part before its counter), so the state after a header's first
// two SHA-256 blocks is remembered and reused when a later header starts
// with the same bytes: two blocks saved of the four a small request costs
// (the rest of its frames fit one more, and the outer hash takes one).
// A few starts are kept, for a controller hearing from several engines and
// a peer sending several message types; signing and verifying keep their
// own. The cache holds no secret beyond what the keyed state holds, and
// what is compared is the header, which travels in clear.
struct Signer::PrefixCache {
  static constexpr std::size_t bytes = 2 * SHA256_BLOCK_SIZE;
  static constexpr std::size_t slots = 4;

  // `keyed` advanced over the first `bytes` of `header` into `state`: from
  // the cache when a remembered header starts the same, else computed and
  // remembered in place of the oldest. Returns how many bytes of the header
  // `state` has absorbed.
  std::size_t start(const hmac_sha256_ctx& keyed, const Buffer& header, hmac_sha256_ctx& state) {
    const auto* data = reinterpret_cast<const std::uint8_t*>(header.data());
    if (header.size() < bytes || busy.test_and_set(std::memory_order_acquire)) {
      state = keyed;
      return 0;
    }
    const auto hit = std::find_if(used.begin(), used.begin() + filled, [&](const Slot& slot) {
      return std::memcmp(slot.prefix.data(), data, bytes) == 0;
    });
    if (hit != used.begin() + filled) {
      state = hit->after_prefix;
    } else {
      state = keyed;
      hmac_sha256_update(&state, bytes, data);
      Slot& slot = used[oldest];
      std::memcpy(slot.prefix.data(), data, bytes);
      slot.after_prefix = state;
      oldest = (oldest + 1) % slots;
      filled = std::min(filled + 1, slots);
    }
    busy.clear(std::memory_order_release);
    return bytes;
  }

  struct Slot {
    std::array<std::uint8_t, bytes> prefix;
    hmac_sha256_ctx after_prefix;
  };
  // Taken by one caller at a time; a caller that finds it taken (another
  // thread signing with the same Signer) computes without it.
  std::atomic_flag busy;
  std::array<Slot, slots> used;
  std::size_t filled = 0;  // slots holding a prefix, from the first
  std::size_t oldest = 0;  // the slot the next new prefix replaces
};

static_assert(Signer::signature_size == 2 * SHA256_DIGEST_SIZE);

struct Signer::State {
  hmac_sha256_ctx keyed;
  PrefixCache signing;
  PrefixCache verifying;
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

Signer::Mac Signer::mac(std::span<const Buffer> signed_frames, PrefixCache& cache) const {
  hmac_sha256_ctx state;
  std::size_t skip = 0;  // bytes of the first frame already absorbed
  if (signed_frames.empty())
    state = state_->keyed;
  else
    skip = cache.start(state_->keyed, signed_frames.front(), state);
  for (const Buffer& frame : signed_frames) {
    hmac_sha256_update(&state, frame.size() - skip,
                       reinterpret_cast<const std::uint8_t*>(frame.data()) + skip);
    skip = 0;
  }
  Mac mac{};
  hmac_sha256_digest(&state, mac.size(), mac.data());
  return mac;
}

void Signer::sign_into(std::span<const Buffer> signed_frames,
                       std::span<char, signature_size> out) const {
  if (!state_) {
    throw error(errc::invalid_argument, "this Signer has no key: there is nothing to sign with");
  }
  const Mac mac_bytes = mac(signed_frames, state_->signing);
  detail::write_hex(std::as_bytes(std::span(mac_bytes)), out.data());
}

std::string Signer::sign(std::span<const Buffer> signed_frames) const {
  if (!state_) return {};
  std::string hex(signature_size, '\0');
  sign_into(signed_frames, std::span<char, signature_size>(hex.data(), signature_size));
  return hex;
}

bool Signer::verify(std::span<const Buffer> signed_frames, std::string_view signature) const {
  if (!state_) return signature.empty();
  // Jupyter compares the hex text, so this does too: only the exact form
  // (64 lowercase digits) verifies. The length is public; the contents are
  // compared in constant time. (Decoding the received text instead measured
  // slower: libsodium's hex2bin costs more than encoding.)
  static_assert(crypto_verify_64_BYTES == 2 * SHA256_DIGEST_SIZE);
  if (signature.size() != crypto_verify_64_BYTES) return false;
  const auto expected_hex = to_hex(mac(signed_frames, state_->verifying));
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
