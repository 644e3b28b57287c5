#pragma once
// Z85 key helpers shared by curve.cpp (key files, socket setup) and
// curve_authenticator.cpp (the ZAP handler). Private to messaging/src.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace cannery::detail {

inline constexpr std::size_t curve_key_bytes = 32;
inline constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";
inline constexpr const char* zap_domain = "cannery";

using BinaryKey = std::array<std::uint8_t, curve_key_bytes>;

// Decodes a key that check_curve_key accepts (throws otherwise).
BinaryKey decode_curve_key(std::string_view z85, std::string_view what);
std::string encode_curve_key(const std::uint8_t* key);

}  // namespace cannery::detail
