// The signature and digest functions agree with published test vectors, so a
// peer with any standard HMAC-SHA256 / BLAKE2b implementation agrees too.

#include <array>
#include <cannery/canning/error.hpp>
#include <cannery/messaging/hmac.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <string_view>

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2 however the data is split into frames",
          "[messaging][hmac]") {
  cannery::Signer signer("Jefe");
  const std::string expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
  std::vector<cannery::Buffer> one{cannery::Buffer::copy_of("what do ya want for nothing?")};
  std::vector<cannery::Buffer> split{cannery::Buffer::copy_of("what do "), cannery::Buffer(),
                                     cannery::Buffer::copy_of("ya want for"),
                                     cannery::Buffer::copy_of(" nothing?")};
  CHECK(signer.sign(one) == expected);
  CHECK(signer.sign(split) == expected);
  std::array<char, cannery::Signer::signature_size> in_place{};
  signer.sign_into(split, in_place);
  CHECK(std::string_view(in_place.data(), in_place.size()) == expected);
  CHECK(signer.verify(split, expected));
  std::string wrong = expected;
  wrong[63] = '0';
  CHECK_FALSE(signer.verify(split, wrong));
  CHECK_FALSE(signer.verify(split, expected.substr(0, 63)));
  CHECK_FALSE(signer.verify(split, expected + "0"));
}

TEST_CASE("only the exact lowercase hex signature verifies, as Jupyter compares the text",
          "[messaging][hmac]") {
  cannery::Signer signer("Jefe");
  const std::vector<cannery::Buffer> data{cannery::Buffer::copy_of("what do ya want for nothing?")};
  const std::string expected = signer.sign(data);
  REQUIRE(signer.verify(data, expected));
  std::string upper = expected;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(upper != expected);
  CHECK_FALSE(signer.verify(data, upper));
  // Same length, one character that is not a hex digit.
  std::string odd = expected;
  odd[10] = 'g';
  CHECK_FALSE(signer.verify(data, odd));
  std::string spaced = expected;
  spaced[0] = ' ';
  CHECK_FALSE(signer.verify(data, spaced));
}

TEST_CASE("a key longer than a SHA-256 block is hashed first, as RFC 4231 test case 6 says",
          "[messaging][hmac]") {
  cannery::Signer signer(std::string(131, '\xaa'));
  std::vector<cannery::Buffer> data{
      cannery::Buffer::copy_of("Test Using Larger Than Block-Size Key - Hash Key First")};
  CHECK(signer.sign(data) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("without a key nothing is signed and only empty signatures verify", "[messaging][hmac]") {
  cannery::Signer none("");
  std::vector<cannery::Buffer> data{cannery::Buffer::copy_of("x")};
  CHECK_FALSE(none.enabled());
  CHECK(none.sign(data).empty());
  std::array<char, cannery::Signer::signature_size> out{};
  CHECK_THROWS_AS(none.sign_into(data, out), cannery::error);
  CHECK(none.verify(data, ""));
  CHECK_FALSE(none.verify(data, "00"));
}

TEST_CASE("buffer digests are BLAKE2b-256", "[messaging][hmac]") {
  CHECK(cannery::buffer_digest(cannery::Buffer()) ==
        "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  CHECK(cannery::buffer_digest(cannery::Buffer::copy_of("abc")) ==
        "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}
