#include "cannery/messaging/protocol.hpp"

#include <algorithm>
#include <charconv>

namespace cannery::protocol {

std::string to_string(Version v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

std::optional<Version> parse_version(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view digits) -> std::optional<int> {
    int n = 0;
    const char* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, n);
    if (digits.empty() || ec != std::errc{} || ptr != end || n < 0) return std::nullopt;
    return n;
  };
  const auto major = number(text.substr(0, dot));
  const auto minor = number(text.substr(dot + 1));
  if (!major || !minor) return std::nullopt;
  return Version{*major, *minor};
}

std::optional<std::string> incompatibility(std::string_view theirs, Version ours,
                                           std::string_view peer) {
  const std::optional<Version> v = parse_version(theirs);
  if (v && v->major == ours.major) return std::nullopt;
  const std::string said = v ? "protocol " + to_string(*v)
                             : "a protocol version that is not major.minor ('" +
                                   std::string(theirs.substr(0, 32)) + "')";
  return std::string(peer) + " speaks " + said + ", this side protocol " + to_string(ours) +
         (v ? ": the major versions differ, so they cannot work together" : "") +
         "; run engines and controller "
         "from cannery releases of one protocol major version (cannery-engine --version prints "
         "its own)";
}

bool has_capability(const std::vector<std::string>& capabilities, std::string_view name) {
  return std::find(capabilities.begin(), capabilities.end(), name) != capabilities.end();
}

}  // namespace cannery::protocol
