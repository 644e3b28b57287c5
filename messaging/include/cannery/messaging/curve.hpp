#pragma once
// CURVE (CurveZMQ, RFC 26) for cannery sockets: key pairs, key files, socket
// setup and the ZAP handler that decides which clients may connect.
//
// CURVE encrypts and authenticates every frame on the wire. On its own it only
// proves that the *server* holds its secret key: any client that knows the
// server's public key gets in. Deciding who may connect is the job of a ZAP
// handler (RFC 27); CurveAuthenticator is one, with an allow-list of client
// public keys.
//
// Order and lifetime rules (libzmq looks the handler up when a client's
// handshake reaches the authentication step, by the fixed endpoint
// inproc://zeromq.zap.01 in the socket's context):
//   - Create the CurveAuthenticator BEFORE the CURVE server socket binds, and
//     keep it alive until the server socket is closed.
//   - At most ONE CurveAuthenticator per zmq::context_t: the endpoint can be
//     bound once; a second one throws invalid_argument.
//   - It answers for every socket of its context that asks ZAP: all CURVE server
//     sockets share its allow-list, and sockets with the NULL or PLAIN mechanism
//     and a ZAP domain set are refused.
//   - make_curve_server also sets ZAP enforcement where libzmq supports it (the
//     libzmq 4.3 option ZMQ_ZAP_ENFORCE_DOMAIN), so a server socket whose
//     context has no authenticator refuses every client instead of admitting
//     every client.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

namespace cannery {

// A CURVE key pair as Z85 text (40 characters each, for 32-byte keys).
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};

// A fresh key pair from libzmq (zmq_curve_keypair, backed by libsodium).
CurveKeyPair generate_curve_keypair();

// Whether `key` is 40 characters of Z85 text that decode to a 32-byte key.
bool is_curve_key(std::string_view key) noexcept;

// Throws invalid_argument, naming `what` ("server public key", ...), unless
// is_curve_key(key). The message says whether the length or a character is wrong.
void check_curve_key(std::string_view key, std::string_view what);

// What write_curve_keypair does when a key file already exists.
enum class ExistingKeyFiles { refuse, replace };

// Writes `<base>.key` (JSON {"public": ..., "secret": ...}, mode 0600 from the
// moment it exists) and `<base>.key.pub` (JSON {"public": ...}, mode 0644).
// Each file appears whole or not at all. With ExistingKeyFiles::refuse (the
// default) an existing file is never overwritten: io_error instead.
void write_curve_keypair(const std::filesystem::path& base, const CurveKeyPair& keys,
                         ExistingKeyFiles existing = ExistingKeyFiles::refuse);

// Reads a secret key file (`<base>.key`). Refuses, with io_error, a file that
// group or others may access, and with invalid_argument one whose keys are not
// Z85 or whose public key does not belong to its secret key.
CurveKeyPair read_curve_keypair(const std::filesystem::path& secret_file);

// The public key from a `<base>.key.pub` file (a `<base>.key` file works too).
std::string read_curve_public_key(const std::filesystem::path& file);

// Makes `socket` a CURVE server with the given key pair and ZAP domain
// "cannery". Call before bind. See the order rules above.
void make_curve_server(zmq::socket_ref socket, const CurveKeyPair& server);

// Makes `socket` a CURVE server that admits any client knowing its public
// key: no ZAP domain, so no authenticator is asked. Only for sockets whose
// every request proves its sender otherwise (signed with the cluster's key):
// an engine's data socket, whose clients are the other engines, which the
// engine cannot list. Encrypted all the same. Call before bind.
void make_open_curve_server(zmq::socket_ref socket, const CurveKeyPair& server);

// Makes `socket` a CURVE client that only talks to the server holding the
// secret key of `server_public_key`. Call before connect.
void make_curve_client(zmq::socket_ref socket, const CurveKeyPair& client,
                       std::string_view server_public_key);

// A ZAP handler on its own thread that accepts CURVE clients whose public key
// is in an allow-list and refuses everything else. Accepted clients get their
// Z85 public key as ZAP user id (message property "User-Id" on the server).
// Must be destroyed before its context is closed.
class CurveAuthenticator {
 public:
  // Binds inproc://zeromq.zap.01 in `context` before returning, so a server
  // socket made afterwards is covered. Throws invalid_argument for a key that is
  // not Z85 or when the context already has a ZAP handler.
  CurveAuthenticator(zmq::context_t& context, std::vector<std::string> allowed_public_keys);
  // Stops the thread (promptly: it is woken through a control socket) and
  // unbinds the ZAP endpoint.
  ~CurveAuthenticator();

  CurveAuthenticator(const CurveAuthenticator&) = delete;
  CurveAuthenticator& operator=(const CurveAuthenticator&) = delete;

  // Thread-safe. They decide future handshakes; a connection that was already
  // accepted stays up after revoke (close it, or restart the server socket).
  void allow(std::string_view public_key);
  void revoke(std::string_view public_key);
  bool is_allowed(std::string_view public_key) const;

  // Handshakes answered so far (a client that keeps reconnecting counts each time).
  std::uint64_t accepted() const noexcept;
  std::uint64_t refused() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cannery
