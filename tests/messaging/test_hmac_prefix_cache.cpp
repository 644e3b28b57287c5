// The Signer reuses the HMAC state after the first 128 bytes of a header
// when a later header starts with the same bytes (it keeps a few such
// starts). Whatever the cache holds,
// every signature must equal a plain HMAC-SHA256 of the frames, here computed
// by libsodium over their concatenation.

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cannery/messaging/hmac.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using cannery::Buffer;

const std::string prefix_cache_key = "prefix-cache-test-key";

std::string reference_hmac(const std::vector<Buffer>& frames) {
  REQUIRE(sodium_init() >= 0);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state,
                              reinterpret_cast<const unsigned char*>(prefix_cache_key.data()),
                              prefix_cache_key.size());
  for (const Buffer& frame : frames) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(frame.data()),
                                  frame.size());
  }
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  char hex[2 * sizeof mac + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return hex;
}

// A header of `size` bytes: `shared` bytes of 'p', then `tail` repeated.
std::vector<Buffer> frames_with(std::size_t size, std::size_t shared, char tail) {
  std::string header(size, tail);
  header.replace(0, std::min(shared, size), std::min(shared, size), 'p');
  return {Buffer::copy_of(header), Buffer::copy_of("\x80"), Buffer::copy_of("{}"),
          Buffer::copy_of("content")};
}

}  // namespace

TEST_CASE("signatures equal a plain HMAC whether the header prefix cache hits or misses",
          "[messaging][hmac]") {
  cannery::Signer signer(prefix_cache_key);
  // Sizes around the cached prefix (128 bytes) and around block edges.
  for (std::size_t size : {0u, 1u, 63u, 64u, 127u, 128u, 129u, 185u, 191u, 192u, 500u}) {
    for (std::size_t shared : {0u, 64u, 127u, 128u, 200u}) {
      for (char tail : {'a', 'b'}) {
        const std::vector<Buffer> frames = frames_with(size, shared, tail);
        const std::string expected = reference_hmac(frames);
        CAPTURE(size, shared, tail);
        // The first sign may fill the cache, the second may hit it; verify
        // has a cache of its own.
        CHECK(signer.sign(frames) == expected);
        CHECK(signer.sign(frames) == expected);
        CHECK(signer.verify(frames, expected));
        CHECK(signer.verify(frames, expected));
        std::string wrong = expected;
        wrong[0] = wrong[0] == '0' ? '1' : '0';
        CHECK_FALSE(signer.verify(frames, wrong));
      }
    }
  }
}

TEST_CASE(
    "a header differing from the cached one only after 128 bytes, or only before, is "
    "signed as itself",
    "[messaging][hmac]") {
  cannery::Signer signer(prefix_cache_key);
  std::string first(200, 'x');
  std::string late = first, early = first;
  late[150] = 'y';  // same cached prefix, other tail
  early[5] = 'y';   // other prefix, same tail
  for (const std::string& header : {first, late, early, first, late}) {
    const std::vector<Buffer> frames{Buffer::copy_of(header), Buffer::copy_of("\x80"),
                                     Buffer::copy_of("\x80"), Buffer::copy_of("\x80")};
    CHECK(signer.sign(frames) == reference_hmac(frames));
    CHECK(signer.verify(frames, reference_hmac(frames)));
  }
}

TEST_CASE("headers from more peers than the cache keeps, in turn, are each signed as themselves",
          "[messaging][hmac]") {
  cannery::Signer signer(prefix_cache_key);
  // 2 peers fit the cache (hits after the first round), 7 do not (misses).
  for (int peers : {2, 7}) {
    for (int round = 0; round < 3; ++round) {
      for (int peer = 0; peer < peers; ++peer) {
        const std::vector<Buffer> frames = frames_with(190, 0, static_cast<char>('A' + peer));
        CAPTURE(peers, round, peer);
        CHECK(signer.verify(frames, reference_hmac(frames)));
        CHECK(signer.sign(frames) == reference_hmac(frames));
      }
    }
  }
}

TEST_CASE("threads signing with one Signer at once all get the right signatures",
          "[messaging][hmac]") {
  const cannery::Signer signer(prefix_cache_key);
  constexpr int threads = 4, rounds = 2000;
  // Each thread has its own prefix, so the shared cache keeps changing hands.
  std::vector<std::vector<Buffer>> frames;
  std::vector<std::string> expected;
  for (int t = 0; t < threads; ++t) {
    frames.push_back(frames_with(180, 0, static_cast<char>('a' + t)));
    expected.push_back(reference_hmac(frames.back()));
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        if (signer.sign(frames[t]) != expected[t]) ++wrong;
        if (!signer.verify(frames[t], expected[t])) ++wrong;
      }
    });
  }
  for (std::thread& thread : pool)
    thread.join();
  CHECK(wrong == 0);
}

TEST_CASE("one session's headers share their first 128 bytes, so its signer's cache hits",
          "[messaging][hmac]") {
  cannery::SessionOptions options;
  options.key = prefix_cache_key;
  cannery::Session session(options);
  const std::vector<Buffer> a = session.serialize(session.message("apply_request"));
  const std::vector<Buffer> b = session.serialize(session.message("apply_request"));
  // [delimiter, signature, header, ...]
  const Buffer& header_a = a[2];
  const Buffer& header_b = b[2];
  REQUIRE(header_a.size() >= 128);
  REQUIRE(header_b.size() >= 128);
  CHECK(std::equal(header_a.data(), header_a.data() + 128, header_b.data()));
  // After those 128 bytes, the rest of a request's header, the three empty
  // dicts and SHA-256's 9 bytes of padding fit in one block, with room for
  // the message counter to grow by 9 digits.
  constexpr std::size_t dicts = 3, padding = 9, counter_growth = 9;
  CHECK(header_a.size() - 128 + dicts + padding + counter_growth <= 64);
  CHECK_FALSE(std::equal(header_a.data(), header_a.data() + header_a.size(), header_b.data()));
  // And each is signed as a plain HMAC of its own four frames.
  for (const auto* frames : {&a, &b}) {
    const std::vector<Buffer> signed_frames(frames->begin() + 2, frames->begin() + 6);
    CHECK((*frames)[1].as_string_view() == reference_hmac(signed_frames));
  }
}
