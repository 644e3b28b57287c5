#include "cannery/messaging/connection_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <span>
#include <system_error>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/detail/hex.hpp"

namespace cannery {

namespace detail {

namespace {

namespace fs = std::filesystem;

std::string quoted(const fs::path& path) {
  return "'" + path.string() + "'";
}

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

[[noreturn]] void throw_io(const std::string& message) {
  throw error(errc::io_error, message);
}

// Closes a file descriptor on every path out of a function.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }
  // Closes now, reporting the error close(2) may deliver late for writes.
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

// Removes the temporary file unless it was moved into place.
class TemporaryName {
 public:
  explicit TemporaryName(std::string name) : name_(std::move(name)) {}
  TemporaryName(const TemporaryName&) = delete;
  TemporaryName& operator=(const TemporaryName&) = delete;
  ~TemporaryName() {
    if (!name_.empty()) ::unlink(name_.c_str());
  }

  const char* c_str() const { return name_.c_str(); }
  void release() { name_.clear(); }

 private:
  std::string name_;
};

void write_all(int fd, std::string_view bytes, const std::string& where) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("could not write " + where + ": " + errno_text(errno) +
               "; check free disk space and quota");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Makes the rename itself durable; a failure here loses nothing that is not
// already on disk, so it is not reported.
void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomically(const fs::path& path, std::string_view contents, fs::perms mode,
                           IfExists if_exists, std::string_view what) {
  const std::string where = std::string(what) + " " + quoted(path);
  if (!path.has_filename())
    throw error(errc::invalid_argument,
                "cannot write " + where + ": the path names a directory, not a file");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");

  // mkostemp creates the file exclusively with mode 0600, so the contents are
  // never readable by anyone else, not even between creation and fchmod.
  std::string name = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0)
    throw_io("could not create a temporary file in " + quoted(dir) + " to write " + where + ": " +
             errno_text(errno) + "; check that the directory exists and is writable");
  TemporaryName temp(std::move(name));
  UniqueFd file(fd);

  if (::fchmod(file.get(), static_cast<mode_t>(mode)) != 0)
    throw_io("could not set the permissions of " + where + ": " + errno_text(errno));
  write_all(file.get(), contents, where);
  if (::fsync(file.get()) != 0 || file.close() != 0)
    throw_io("could not flush " + where + " to disk: " + errno_text(errno) +
             "; check free disk space and quota");

  if (if_exists == IfExists::replace) {
    if (::rename(temp.c_str(), path.c_str()) != 0)
      throw_io("could not move the new " + where + " into place: " + errno_text(errno) +
               "; check that the directory is writable");
    temp.release();
  } else {
    // link(2) fails if the target exists, so two writers cannot both believe
    // they created the file and nothing is overwritten between a check and the
    // write. The temporary name is removed by `temp` either way.
    if (::link(temp.c_str(), path.c_str()) != 0) {
      const int err = errno;
      if (err == EEXIST) throw_io(where + " already exists; remove it or choose to overwrite it");
      throw_io("could not create " + where + ": " + errno_text(err));
    }
  }
  sync_directory(dir);
}

std::string read_small_file(const fs::path& path, std::string_view what, bool owner_only,
                            std::size_t max_bytes) {
  const std::string where = std::string(what) + " " + quoted(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw_io("cannot open " + where + ": " + errno_text(errno) +
             (errno == ENOENT ? "; check the path, or create the file first" : ""));
  const UniqueFd file(fd);

  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_io("cannot inspect " + where + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw_io("cannot read " + where + ": it is not a regular file");
  if (owner_only && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    std::array<char, 8> octal{};
    std::snprintf(octal.data(), octal.size(), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw_io(where + " has mode " + octal.data() +
             ", so group or others may read or change it; run `chmod 600 " + quoted(path) +
             "` (and replace the key if someone else could have read it)");
  }
  if (static_cast<std::uintmax_t>(st.st_size) > max_bytes)
    throw_io(where + " is " + std::to_string(st.st_size) + " bytes, more than the " +
             std::to_string(max_bytes) + " bytes such a file can be; check the path");

  std::string text;
  std::array<char, 4096> chunk{};
  for (;;) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_io("cannot read " + where + ": " + errno_text(errno));
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<std::size_t>(n));
    // The file may have grown since fstat.
    if (text.size() > max_bytes)
      throw_io(where + " is larger than " + std::to_string(max_bytes) + " bytes; check the path");
  }
  return text;
}

}  // namespace detail

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kSignatureScheme = "hmac-sha256";
constexpr std::string_view kPacker = "msgpack";

[[noreturn]] void invalid(const std::string& where, const std::string& problem) {
  throw error(errc::invalid_argument, where + ": " + problem);
}

// The checks that apply to a ConnectionInfo however it was obtained, so that
// write_connection_file never writes a file read_connection_file refuses.
void check_info(const ConnectionInfo& info, const std::string& where) {
  for (const auto& [name, endpoint] : info.endpoints) {
    if (name.empty()) invalid(where, "field \"endpoints\" has an empty endpoint name");
    if (endpoint.find("://") == std::string::npos)
      invalid(where, "field \"endpoints\".\"" + name + "\" is \"" + endpoint +
                         "\", which is not a ZeroMQ endpoint such as tcp://127.0.0.1:5555");
  }
  if (info.signature_scheme != kSignatureScheme)
    invalid(where, "field \"signature_scheme\" is \"" + info.signature_scheme +
                       "\"; cannery supports only \"hmac-sha256\"");
  if (info.packer != kPacker)
    invalid(where, "packer \"" + info.packer + "\" is not supported; cannery uses \"msgpack\"");
  if (!info.curve_server_public_key.empty())
    check_curve_key(info.curve_server_public_key, where + ": field \"curve_server_key\"");
}

const json& required(const json& doc, const char* field, const std::string& where) {
  const auto it = doc.find(field);
  if (it == doc.end())
    invalid(where, std::string("field \"") + field +
                       "\" is missing; regenerate the file with the controller");
  return *it;
}

std::string string_value(const json& value, const std::string& field, const std::string& where) {
  if (!value.is_string())
    invalid(where, "field \"" + field + "\" must be a string, not " + value.type_name());
  return value.get<std::string>();
}

}  // namespace

std::string generate_key() {
  // sodium_init is idempotent and thread-safe; it seeds randombytes.
  if (sodium_init() < 0)
    throw error(errc::io_error,
                "libsodium could not be initialized, so no random key can be made; "
                "check that /dev/urandom or getrandom(2) is available");
  std::array<unsigned char, 32> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  std::string key = detail::hex(std::as_bytes(std::span(bytes)));
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

std::string connection_info_json(const ConnectionInfo& info) {
  check_info(info, "cannot write connection info");
  try {
    json doc;
    doc["endpoints"] = json::object();
    for (const auto& [name, endpoint] : info.endpoints)
      doc["endpoints"][name] = endpoint;
    doc["key"] = info.key;
    doc["signature_scheme"] = info.signature_scheme;
    doc["pack"] = info.packer;
    doc["unpack"] = info.packer;
    if (!info.curve_server_public_key.empty())
      doc["curve_server_key"] = info.curve_server_public_key;
    return doc.dump(2) + "\n";
  } catch (const json::exception& e) {
    // dump refuses strings that are not UTF-8.
    invalid("cannot write connection info",
            std::string("an endpoint or the key is not valid UTF-8 text (") + e.what() + ")");
  }
}

void write_connection_file(const fs::path& path, const ConnectionInfo& info) {
  std::string text;
  try {
    text = connection_info_json(info);
  } catch (const error& e) {
    throw error(e.code(), "connection file '" + path.string() + "': " + e.message());
  }
  detail::write_file_atomically(path, text, fs::perms::owner_read | fs::perms::owner_write,
                                detail::IfExists::replace, "connection file");
}

ConnectionInfo read_connection_file(const fs::path& path) {
  return parse_connection_info(detail::read_small_file(path, "connection file", false),
                               "connection file '" + path.string() + "'");
}

ConnectionInfo parse_connection_info(std::string_view text, const std::string& where) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    invalid(where, std::string("not valid JSON (") + e.what() +
                       "); regenerate the file with the controller");
  }
  if (!doc.is_object())
    invalid(where, std::string("must hold a JSON object, not ") + doc.type_name());

  ConnectionInfo info;
  const json& endpoints = required(doc, "endpoints", where);
  if (!endpoints.is_object())
    invalid(where,
            std::string("field \"endpoints\" must be an object, not ") + endpoints.type_name());
  for (const auto& [name, endpoint] : endpoints.items())
    info.endpoints[name] = string_value(endpoint, "endpoints\".\"" + name, where);

  info.key = string_value(required(doc, "key", where), "key", where);
  info.signature_scheme =
      string_value(required(doc, "signature_scheme", where), "signature_scheme", where);
  info.packer = string_value(required(doc, "pack", where), "pack", where);
  const std::string unpacker = string_value(required(doc, "unpack", where), "unpack", where);
  if (unpacker != info.packer)
    invalid(where, "fields \"pack\" (\"" + info.packer + "\") and \"unpack\" (\"" + unpacker +
                       "\") differ; cannery uses \"msgpack\" for both");
  if (const auto it = doc.find("curve_server_key"); it != doc.end()) {
    info.curve_server_public_key = string_value(*it, "curve_server_key", where);
    if (info.curve_server_public_key.empty())
      invalid(where, "field \"curve_server_key\" is empty; remove it to connect without CURVE");
  }
  check_info(info, where);
  return info;
}

}  // namespace cannery
