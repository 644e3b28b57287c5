#include "cannery/messaging/curve.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>
#include <utility>
#include <zmq_addon.hpp>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/connection_file.hpp"
#include "curve_keys.hpp"

namespace cannery {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using detail::BinaryKey;
constexpr std::size_t kKeyBytes = detail::curve_key_bytes;
constexpr std::size_t kZ85KeyChars = 40;
constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr const char* kZapDomain = detail::zap_domain;

// ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in libzmq 4.3: its header hides the
// name unless the draft API is enabled, yet the library honours the number.
#ifdef ZMQ_ZAP_ENFORCE_DOMAIN
constexpr int kZapEnforceDomain = ZMQ_ZAP_ENFORCE_DOMAIN;
#else
constexpr int kZapEnforceDomain = 93;
#endif

}  // namespace

namespace detail {

BinaryKey decode_curve_key(std::string_view z85, std::string_view what) {
  check_curve_key(z85, what);
  const std::string terminated(z85);  // zmq_z85_decode reads a C string
  BinaryKey key{};
  zmq_z85_decode(key.data(), terminated.c_str());
  return key;
}

std::string encode_curve_key(const std::uint8_t* key) {
  std::array<char, kZ85KeyChars + 1> text{};
  zmq_z85_encode(text.data(), key, kKeyBytes);
  return std::string(text.data(), kZ85KeyChars);
}

}  // namespace detail

namespace {

// Both keys are Z85 and the public one is derived from the secret one, so a
// mismatched pair fails here rather than as a handshake that never completes.
// `what` names the pair in messages ("server key pair").
void check_pair(const CurveKeyPair& keys, const std::string& what) {
  check_curve_key(keys.public_key, what + ": the public key");
  check_curve_key(keys.secret_key, what + ": the secret key");
  std::array<char, kZ85KeyChars + 1> derived{};
  const std::string secret(keys.secret_key);
  if (zmq_curve_public(derived.data(), secret.c_str()) != 0 ||
      keys.public_key != std::string_view(derived.data(), kZ85KeyChars))
    throw error(errc::invalid_argument,
                what +
                    ": the public key does not belong to the secret key; use a pair made "
                    "together (cannery-keygen)");
}

template <class Option, class Value>
void set_option(zmq::socket_ref socket, Option option, const Value& value, const char* role) {
  try {
    socket.set(option, value);
  } catch (const zmq::error_t& e) {
    throw error(errc::invalid_argument,
                std::string("could not make the socket a CURVE ") + role + ": " + e.what() +
                    "; check that libzmq was built with CURVE (zmq_has(\"curve\"))");
  }
}

fs::path with_suffix(const fs::path& base, const char* suffix) {
  fs::path path = base;
  path += suffix;
  return path;
}

std::string key_field(const json& doc, const char* field, const std::string& where) {
  const auto it = doc.find(field);
  if (it == doc.end())
    throw error(errc::invalid_argument, where + ": field \"" + field + "\" is missing");
  if (!it->is_string())
    throw error(errc::invalid_argument,
                where + ": field \"" + field + "\" must be a string, not " + it->type_name());
  std::string key = it->get<std::string>();
  check_curve_key(key, where + ": field \"" + field + "\"");
  return key;
}

json parse_key_file(const std::string& text, const std::string& where) {
  try {
    json doc = json::parse(text);
    if (doc.is_object()) return doc;
  } catch (const json::exception& e) {
    throw error(errc::invalid_argument,
                where + ": not valid JSON (" + e.what() + "); make new keys with cannery-keygen");
  }
  throw error(errc::invalid_argument,
              where + ": must hold a JSON object; make new keys with cannery-keygen");
}

constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

}  // namespace

bool is_curve_key(std::string_view key) noexcept {
  if (key.size() != kZ85KeyChars) return false;
  for (const char c : key)
    if (kZ85Alphabet.find(c) == std::string_view::npos) return false;
  // The alphabet is not the whole story: a group of five characters can still
  // exceed 2^32, which libzmq rejects.
  std::array<char, kZ85KeyChars + 1> terminated{};
  key.copy(terminated.data(), kZ85KeyChars);
  BinaryKey bytes{};
  return zmq_z85_decode(bytes.data(), terminated.data()) != nullptr;
}

void check_curve_key(std::string_view key, std::string_view what) {
  if (is_curve_key(key)) return;
  const std::string prefix = std::string(what) + " is not a CURVE key: ";
  if (key.size() != kZ85KeyChars)
    throw error(errc::invalid_argument,
                prefix + "expected " + std::to_string(kZ85KeyChars) + " Z85 characters, got " +
                    std::to_string(key.size()) +
                    "; check that the whole key was copied, without quotes");
  for (std::size_t i = 0; i < key.size(); ++i)
    if (kZ85Alphabet.find(key[i]) == std::string_view::npos)
      throw error(errc::invalid_argument,
                  prefix + "character " + std::to_string(i) + " (byte " +
                      std::to_string(static_cast<unsigned char>(key[i])) +
                      ") is not in the Z85 alphabet; check for quotes or spaces");
  throw error(errc::invalid_argument,
              prefix + "its Z85 groups do not decode to 32 bytes; copy the key again");
}

CurveKeyPair generate_curve_keypair() {
  std::array<char, kZ85KeyChars + 1> public_key{};
  std::array<char, kZ85KeyChars + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0)
    throw error(errc::invalid_argument,
                "libzmq could not make a CURVE key pair (" +
                    std::generic_category().message(zmq_errno()) +
                    "); this libzmq was built without CURVE support, install one with it");
  CurveKeyPair keys{std::string(public_key.data(), kZ85KeyChars),
                    std::string(secret_key.data(), kZ85KeyChars)};
  secret_key.fill('\0');
  return keys;
}

void write_curve_keypair(const fs::path& base, const CurveKeyPair& keys,
                         ExistingKeyFiles existing) {
  check_pair(keys, "key pair to write");
  const fs::path secret_path = with_suffix(base, ".key");
  const fs::path public_path = with_suffix(base, ".key.pub");
  const auto if_exists =
      existing == ExistingKeyFiles::replace ? detail::IfExists::replace : detail::IfExists::refuse;
  if (if_exists == detail::IfExists::refuse) {
    // Checked up front so that neither file is written when either exists; the
    // writes below still refuse atomically if one appears in between.
    for (const auto& path : {secret_path, public_path}) {
      std::error_code ec;
      if (fs::exists(fs::symlink_status(path, ec)))
        throw error(errc::io_error, "key file '" + path.string() +
                                        "' already exists; remove it first or overwrite it "
                                        "(cannery-keygen --force)");
    }
  }

  const json secret_doc = {{"public", keys.public_key}, {"secret", keys.secret_key}};
  const json public_doc = {{"public", keys.public_key}};
  detail::write_file_atomically(secret_path, secret_doc.dump(2) + "\n",
                                fs::perms::owner_read | fs::perms::owner_write, if_exists,
                                "secret key file");
  try {
    detail::write_file_atomically(public_path, public_doc.dump(2) + "\n",
                                  fs::perms::owner_read | fs::perms::owner_write |
                                      fs::perms::group_read | fs::perms::others_read,
                                  if_exists, "public key file");
  } catch (...) {
    // Half a key pair on disk invites using a secret file whose public half
    // was never published; a new secret file that we just made goes again.
    if (if_exists == detail::IfExists::refuse) {
      std::error_code ignored;
      fs::remove(secret_path, ignored);
    }
    throw;
  }
}

CurveKeyPair read_curve_keypair(const fs::path& secret_file) {
  const std::string where = "secret key file '" + secret_file.string() + "'";
  const json doc = parse_key_file(
      detail::read_small_file(secret_file, "secret key file", true, kMaxKeyFileBytes), where);
  CurveKeyPair keys{key_field(doc, "public", where), key_field(doc, "secret", where)};
  check_pair(keys, where);
  return keys;
}

std::string read_curve_public_key(const fs::path& file) {
  const std::string where = "public key file '" + file.string() + "'";
  const json doc = parse_key_file(
      detail::read_small_file(file, "public key file", false, kMaxKeyFileBytes), where);
  return key_field(doc, "public", where);
}

void make_open_curve_server(zmq::socket_ref socket, const CurveKeyPair& server) {
  check_pair(server, "server key pair");
  set_option(socket, zmq::sockopt::curve_server, true, "server");
  set_option(socket, zmq::sockopt::curve_secretkey, server.secret_key, "server");
}

void make_curve_server(zmq::socket_ref socket, const CurveKeyPair& server) {
  make_open_curve_server(socket, server);
  set_option(socket, zmq::sockopt::zap_domain, kZapDomain, "server");
  // Fail closed: without this, a server whose context has no ZAP handler
  // admits every client that knows its public key. A libzmq without the option
  // refuses it with EINVAL; then the lifetime rules in curve.hpp are the guard.
  const int enforce = 1;
  zmq_setsockopt(socket.handle(), kZapEnforceDomain, &enforce, sizeof enforce);
}

void make_curve_client(zmq::socket_ref socket, const CurveKeyPair& client,
                       std::string_view server_public_key) {
  check_pair(client, "client key pair");
  check_curve_key(server_public_key, "server public key");
  set_option(socket, zmq::sockopt::curve_serverkey, server_public_key, "client");
  set_option(socket, zmq::sockopt::curve_publickey, client.public_key, "client");
  set_option(socket, zmq::sockopt::curve_secretkey, client.secret_key, "client");
}

}  // namespace cannery
