#pragma once
// The one exception type of cannery: every failure on received bytes, and every
// misuse that can only be seen at run time, is a cannery::error with a code.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cannery {

enum class errc {
  unknown_tag,         // a tagged node whose tag has no registered canner
  truncated_header,    // the header frame ends before its msgpack value does
  malformed_header,    // the header is msgpack, but not a cannery header
  missing_buffers,     // fewer buffer frames arrived than the header promises
  shape_mismatch,      // shape, strides or size disagree with the data or the type
  limit_exceeded,      // depth, buffer count, header size or ndim above the limits
  type_mismatch,       // the node is not what the requested C++ type needs
  version_mismatch,    // a format version this build does not read
  value_out_of_range,  // a number that does not fit the requested type
  misaligned,          // data not aligned for a zero-copy view of its element type
  duplicate_key,       // a dict that names the same key twice
  duplicate_tag,       // two C++ types registered under one tag
  invalid_argument,    // a value given by the caller that cannot be used
  // Messaging (signed envelopes, sockets, keys, files).
  malformed_message,   // an envelope without its delimiter or its five frames
  signature_missing,   // an empty signature where a key is set
  signature_mismatch,  // the HMAC does not match the signed frames
  replayed_message,    // a signature seen before (a replayed message)
  digest_mismatch,     // a buffer frame whose digest differs from the signed one
  io_error,            // a file or socket operation failed
  timeout,             // nothing arrived in the time allowed
  // Engines and controller.
  remote_error,      // the function raised on the engine (cannery::RemoteError)
  engine_died,       // the engine running the task stopped (cannery::EngineDied)
  unknown_function,  // no function registered under that name on the engine
  unknown_name,      // no value pushed under that name on the engine
  object_lost,       // a kept object's only holder died, or it could not be fetched
  // Messaging, added after the codes above (their order is kept).
  decompression_failed,  // a compressed frame that does not decompress to its declared size
};
// The last code: from_string looks at every code up to it. Keep it last.
inline constexpr errc last_errc = errc::decompression_failed;

// Stable lowercase name of a code, as used in messages and logs.
std::string_view to_string(errc code) noexcept;
// The code of that name (as to_string gives it); nullopt for no code. How a
// code read from the wire ("cannery.<name>" error types) becomes one again.
std::optional<errc> errc_from_string(std::string_view name) noexcept;

class error : public std::runtime_error {
 public:
  error(errc code, const std::string& message);

  errc code() const noexcept { return code_; }
  // The message without the "cannery <code>: " prefix, for wrapping.
  const std::string& message() const noexcept { return message_; }

 private:
  errc code_;
  std::string message_;
};

}  // namespace cannery
