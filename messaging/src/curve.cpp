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

namespace cannery {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kZ85KeyChars = 40;
constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "cannery";

// ZMQ_ZAP_ENFORCE_DOMAIN is a draft option in libzmq 4.3: its header hides the
// name unless the draft API is enabled, yet the library honours the number.
#ifdef ZMQ_ZAP_ENFORCE_DOMAIN
constexpr int kZapEnforceDomain = ZMQ_ZAP_ENFORCE_DOMAIN;
#else
constexpr int kZapEnforceDomain = 93;
#endif

using BinaryKey = std::array<std::uint8_t, kKeyBytes>;

// Decodes a key that check_curve_key accepted.
BinaryKey decode(std::string_view z85, std::string_view what) {
  check_curve_key(z85, what);
  const std::string terminated(z85);  // zmq_z85_decode reads a C string
  BinaryKey key{};
  zmq_z85_decode(key.data(), terminated.c_str());
  return key;
}

std::string encode(const std::uint8_t* key) {
  std::array<char, kZ85KeyChars + 1> text{};
  zmq_z85_encode(text.data(), key, kKeyBytes);
  return std::string(text.data(), kZ85KeyChars);
}

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

void make_curve_server(zmq::socket_ref socket, const CurveKeyPair& server) {
  check_pair(server, "server key pair");
  set_option(socket, zmq::sockopt::curve_server, true, "server");
  set_option(socket, zmq::sockopt::curve_secretkey, server.secret_key, "server");
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

// ---------------------------------------------------------------------------
// CurveAuthenticator

struct CurveAuthenticator::State {
  mutable std::mutex mutex;
  std::set<BinaryKey> allowed;  // guarded by mutex
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};

  zmq::socket_t zap;    // REP, used only by the thread
  zmq::socket_t wake;   // PAIR, the destructor's end
  zmq::socket_t waker;  // PAIR, the thread's end
  std::thread thread;

  bool allows(const zmq::message_t& key) const {
    if (key.size() != kKeyBytes) return false;
    BinaryKey k{};
    std::copy_n(static_cast<const std::uint8_t*>(key.data()), kKeyBytes, k.begin());
    const std::lock_guard lock(mutex);
    return allowed.count(k) != 0;
  }

  struct Verdict {
    const char* status;
    const char* text;
    std::string user_id;
  };

  // RFC 27 request: version, request id, domain, address, identity, mechanism,
  // credentials... For CURVE the one credential is the client's 32-byte public
  // key, which libzmq has already verified the client holds the secret for.
  Verdict judge(const std::vector<zmq::message_t>& request) {
    if (request.size() < 6 || request[0].to_string_view() != "1.0") {
      ++refused;
      return {"500", "malformed ZAP request", {}};
    }
    if (request[5].to_string_view() != "CURVE") {
      ++refused;
      return {"400", "cannery accepts only CURVE clients", {}};
    }
    if (request.size() != 7 || !allows(request[6])) {
      ++refused;
      return {"400", "client public key is not allowed", {}};
    }
    ++accepted;
    return {"200", "OK", encode(static_cast<const std::uint8_t*>(request[6].data()))};
  }

  void answer_one() {
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(zap, std::back_inserter(request), zmq::recv_flags::dontwait)) return;
    const Verdict verdict = judge(request);
    const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
    // A REP socket must answer every request, even a malformed one, or it
    // cannot receive the next.
    zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(verdict.status)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(verdict.text)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(verdict.user_id), zmq::send_flags::sndmore);
    zap.send(zmq::message_t(), zmq::send_flags::none);  // no metadata
  }

  void run() {
    std::array<zmq::pollitem_t, 2> items{
        {{zap.handle(), 0, ZMQ_POLLIN, 0}, {waker.handle(), 0, ZMQ_POLLIN, 0}}};
    for (;;) {
      try {
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(-1));
        if (items[1].revents & ZMQ_POLLIN) return;
        if (items[0].revents & ZMQ_POLLIN) answer_one();
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        if (e.num() == ETERM) return;
        // Stop answering but keep the ZAP endpoint bound: handshakes then wait
        // forever (fail closed) instead of skipping authentication.
        std::fprintf(stderr, "cannery: CURVE authenticator stopped: %s\n", e.what());
        return;
      }
    }
  }
};

CurveAuthenticator::CurveAuthenticator(zmq::context_t& context,
                                       std::vector<std::string> allowed_public_keys)
    : state_(std::make_unique<State>()) {
  for (const auto& key : allowed_public_keys)
    state_->allowed.insert(decode(key, "allowed client public key"));

  static std::atomic<std::uint64_t> instances{0};
  const std::string wake_endpoint =
      "inproc://cannery.curve-authenticator.wake." + std::to_string(instances++);
  try {
    state_->zap = zmq::socket_t(context, zmq::socket_type::rep);
    state_->wake = zmq::socket_t(context, zmq::socket_type::pair);
    state_->waker = zmq::socket_t(context, zmq::socket_type::pair);
    for (auto* socket : {&state_->zap, &state_->wake, &state_->waker})
      socket->set(zmq::sockopt::linger, 0);
    state_->wake.bind(wake_endpoint);
    state_->waker.connect(wake_endpoint);
    state_->zap.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    if (e.num() == EADDRINUSE)
      throw error(errc::invalid_argument,
                  "this ZeroMQ context already has a ZAP handler (inproc://zeromq.zap.01 is "
                  "bound); make one CurveAuthenticator per context and share it");
    throw error(errc::invalid_argument, std::string("could not start the CURVE authenticator: ") +
                                            e.what() + "; check that the context is not closed");
  }
  // The sockets move to the thread here; starting a thread is the full memory
  // barrier libzmq asks for when a socket changes threads.
  state_->thread = std::thread([state = state_.get()] { state->run(); });
}

CurveAuthenticator::~CurveAuthenticator() {
  try {
    state_->wake.send(zmq::str_buffer("stop"), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // Only a terminating context refuses this, and it wakes the thread with ETERM.
  }
  state_->thread.join();
  // Closing a socket releases its inproc endpoint later, on libzmq's reaper
  // thread; unbinding releases it now, so a new authenticator can follow.
  try {
    state_->zap.unbind(kZapEndpoint);
  } catch (const zmq::error_t&) {
    // A terminating context; the endpoint goes with it.
  }
}

void CurveAuthenticator::allow(std::string_view public_key) {
  const BinaryKey key = decode(public_key, "client public key to allow");
  const std::lock_guard lock(state_->mutex);
  state_->allowed.insert(key);
}

void CurveAuthenticator::revoke(std::string_view public_key) {
  const BinaryKey key = decode(public_key, "client public key to revoke");
  const std::lock_guard lock(state_->mutex);
  state_->allowed.erase(key);
}

bool CurveAuthenticator::is_allowed(std::string_view public_key) const {
  if (!is_curve_key(public_key)) return false;
  const BinaryKey key = decode(public_key, "client public key");
  const std::lock_guard lock(state_->mutex);
  return state_->allowed.count(key) != 0;
}

std::uint64_t CurveAuthenticator::accepted() const noexcept {
  return state_->accepted.load();
}
std::uint64_t CurveAuthenticator::refused() const noexcept {
  return state_->refused.load();
}

}  // namespace cannery
