#pragma once
// Connection files: the small JSON file a controller writes so that engines and
// clients know where to connect and which key signs messages. Modeled on IPython
// Parallel's ipcontroller-*.json files, so the fields mean what they mean there:
//
//   {
//     "endpoints": {"engines": "tcp://127.0.0.1:5556"},
//     "key": "<64 lowercase hex characters>",
//     "signature_scheme": "hmac-sha256",
//     "pack": "msgpack",
//     "unpack": "msgpack",
//     "curve_server_key": "<40 Z85 characters>"     (only when CURVE is on)
//   }
//
// The file holds the signing key, so it is written with mode 0600 from the
// moment it exists and replaced atomically (a reader never sees half a file).

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace cannery {

struct ConnectionInfo {
  // Endpoint name -> ZeroMQ endpoint ("tcp://127.0.0.1:5555", "ipc:///run/x").
  std::map<std::string, std::string> endpoints;
  // The HMAC key. As in Jupyter, the key is this text itself (its bytes), not
  // the bytes it would decode to. Empty means unsigned messages, which a
  // Session accepts only when insecure mode is asked for explicitly.
  std::string key;
  std::string signature_scheme = "hmac-sha256";
  std::string packer = "msgpack";
  // Z85 public key of the controller's CURVE server sockets; empty = no CURVE.
  std::string curve_server_public_key;
};

// A fresh signing key: 32 random bytes from libsodium, as 64 lowercase hex
// characters.
std::string generate_key();

// Writes `info` to `path` (mode 0600, via a temporary file in the same
// directory renamed over `path`). Throws invalid_argument for an `info` that
// read_connection_file would refuse, io_error when the file cannot be written.
void write_connection_file(const std::filesystem::path& path, const ConnectionInfo& info);

// Reads and validates a connection file. Throws io_error when it cannot be
// read, invalid_argument (naming the file and the field) when it is not valid
// JSON or a field is missing, of the wrong type, or has an unsupported value.
// Fields this version does not know are ignored, as IPython's are.
ConnectionInfo read_connection_file(const std::filesystem::path& path);

// The same checks on the file's text from elsewhere (an engine's
// CANNERY_CONNECTION_INFO variable); `where` names that source in errors.
ConnectionInfo parse_connection_info(std::string_view text, const std::string& where);

// The file's text for `info`, for launchers that pass it without a file
// (CANNERY_CONNECTION_INFO). Throws invalid_argument as write_connection_file.
std::string connection_info_json(const ConnectionInfo& info);

// The environment variable cannery-engine reads its connection info from
// when it is given no --connection-file.
inline constexpr std::string_view connection_info_variable = "CANNERY_CONNECTION_INFO";

namespace detail {

// Private files shared by connection files and CURVE key files.

enum class IfExists { replace, refuse };

// Writes `contents` to a temporary file in the directory of `path`, created with
// `mode` (no window in which it has wider permissions), flushes it to disk and
// moves it to `path`: renamed over an existing file with IfExists::replace,
// linked (failing with io_error if `path` exists) with IfExists::refuse.
// `what` names the file in error messages ("connection file").
void write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                           std::filesystem::perms mode, IfExists if_exists, std::string_view what);

// Reads a small file (at most `max_bytes`). With `owner_only`, refuses with
// io_error a file that group or others may read or write, checked on the open
// file so it cannot be swapped between the check and the read.
std::string read_small_file(const std::filesystem::path& path, std::string_view what,
                            bool owner_only, std::size_t max_bytes = 1 << 20);

}  // namespace detail

}  // namespace cannery
