#include "cannery/canning/error.hpp"

namespace cannery {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::unknown_tag:
      return "unknown_tag";
    case errc::truncated_header:
      return "truncated_header";
    case errc::malformed_header:
      return "malformed_header";
    case errc::missing_buffers:
      return "missing_buffers";
    case errc::shape_mismatch:
      return "shape_mismatch";
    case errc::limit_exceeded:
      return "limit_exceeded";
    case errc::type_mismatch:
      return "type_mismatch";
    case errc::version_mismatch:
      return "version_mismatch";
    case errc::value_out_of_range:
      return "value_out_of_range";
    case errc::misaligned:
      return "misaligned";
    case errc::duplicate_key:
      return "duplicate_key";
    case errc::duplicate_tag:
      return "duplicate_tag";
    case errc::invalid_argument:
      return "invalid_argument";
    case errc::malformed_message:
      return "malformed_message";
    case errc::signature_missing:
      return "signature_missing";
    case errc::signature_mismatch:
      return "signature_mismatch";
    case errc::replayed_message:
      return "replayed_message";
    case errc::digest_mismatch:
      return "digest_mismatch";
    case errc::io_error:
      return "io_error";
    case errc::timeout:
      return "timeout";
    case errc::remote_error:
      return "remote_error";
    case errc::engine_died:
      return "engine_died";
    case errc::unknown_function:
      return "unknown_function";
    case errc::unknown_name:
      return "unknown_name";
    case errc::object_lost:
      return "object_lost";
    case errc::decompression_failed:
      return "decompression_failed";
  }
  return "unknown_error";
}

std::optional<errc> errc_from_string(std::string_view name) noexcept {
  for (int i = 0; i <= static_cast<int>(last_errc); ++i) {
    if (to_string(static_cast<errc>(i)) == name) return static_cast<errc>(i);
  }
  return std::nullopt;
}

error::error(errc code, const std::string& message)
    : std::runtime_error("cannery " + std::string(to_string(code)) + ": " + message),
      code_(code),
      message_(message) {}

}  // namespace cannery
