// CURVE: key pairs and key files, the allow-list authenticator, and proof that
// every client without the right keys is kept out (no message gets through).
// Only 127.0.0.1, ipc in a temporary directory and inproc are used; every wait
// is bounded.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cannery/canning/error.hpp>
#include <cannery/messaging/curve.hpp>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>
#include "test_support.hpp"

#if defined(__SANITIZE_THREAD__)
// ThreadSanitizer's dynamic annotations (its runtime defines them).
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
#endif

namespace {

// The User-Id property of a received message. libzmq's I/O thread wrote that
// string and handed the message over through its own lock-free queue, which
// ThreadSanitizer cannot see (tests/tsan.supp): reading it here is that
// hand-over's read, so under the sanitizer this copy alone goes unchecked.
std::string user_id(zmq::message_t& message) {
  const char* property = message.gets("User-Id");
  std::string id;
#if defined(__SANITIZE_THREAD__)
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
#endif
  for (const char* c = property; *c != '\0'; ++c)
    id.push_back(*c);
#if defined(__SANITIZE_THREAD__)
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
#endif
  return id;
}

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using cannery::CurveKeyPair;
using cannery::errc;
using cannery::test::capture_error;

// How long a refused client is given to get a message through. Refusal is
// decided in the handshake, well within this on loopback.
constexpr auto kRefusalWindow = 500ms;
// Upper bound for things that must happen (a handshake, a ZAP answer).
constexpr auto kPatience = 5s;

using cannery::test::TempDir;

bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The frames of the next message if one arrives within `timeout`.
std::optional<std::vector<zmq::message_t>> receive_within(zmq::socket_t& socket,
                                                          std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<zmq::message_t> frames;
  REQUIRE(zmq::recv_multipart(socket, std::back_inserter(frames)));
  return frames;
}

zmq::socket_t make_socket(zmq::context_t& context, zmq::socket_type type) {
  zmq::socket_t socket(context, type);
  socket.set(zmq::sockopt::linger, 0);
  return socket;
}

// A controller-side CURVE server with an authenticator that allows `engine`.
// Members are destroyed in reverse: socket, then authenticator, then context.
struct CurveServer {
  zmq::context_t context;
  CurveKeyPair controller = cannery::generate_curve_keypair();
  CurveKeyPair engine = cannery::generate_curve_keypair();
  std::unique_ptr<cannery::CurveAuthenticator> authenticator;
  zmq::socket_t socket;
  std::string endpoint;

  CurveServer(zmq::socket_type type, const std::string& bind_to) {
    authenticator = std::make_unique<cannery::CurveAuthenticator>(
        context, std::vector<std::string>{engine.public_key});
    socket = make_socket(context, type);
    cannery::make_curve_server(socket, controller);
    socket.bind(bind_to);
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }

  zmq::socket_t client(zmq::socket_type type, const CurveKeyPair& keys,
                       const std::string& server_key) {
    auto s = make_socket(context, type);
    cannery::make_curve_client(s, keys, server_key);
    s.connect(endpoint);
    return s;
  }

  zmq::socket_t plain_client(zmq::socket_type type) {
    auto s = make_socket(context, type);
    s.connect(endpoint);
    return s;
  }
};

// Sends one frame from a PUSH client without blocking (it queues until the
// handshake completes, or forever if it never does).
void push(zmq::socket_t& client, std::string_view text) {
  REQUIRE(client.send(zmq::buffer(text), zmq::send_flags::dontwait));
}

std::string run_command(const std::string& command, int& exit_code) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char chunk[256];
  while (std::fgets(chunk, sizeof chunk, pipe) != nullptr)
    output += chunk;
  const int status = ::pclose(pipe);
  exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

std::string keygen_command(const std::string& args) {
  // stderr is dropped: the program's chatter is not part of what is tested.
  return std::string("'") + CANNERY_KEYGEN + "' " + args + " 2>/dev/null";
}

}  // namespace

// ---------------------------------------------------------------------------
// Keys and key files

TEST_CASE("generated CURVE keys are 40 Z85 characters and checked", "[messaging][curve]") {
  const auto keys = cannery::generate_curve_keypair();
  CHECK(keys.public_key.size() == 40);
  CHECK(keys.secret_key.size() == 40);
  CHECK(keys.public_key != keys.secret_key);
  CHECK(cannery::is_curve_key(keys.public_key));
  CHECK(cannery::generate_curve_keypair().public_key != keys.public_key);

  CHECK_FALSE(cannery::is_curve_key(""));
  CHECK_FALSE(cannery::is_curve_key(keys.public_key.substr(1)));
  CHECK_FALSE(cannery::is_curve_key("\"" + keys.public_key.substr(1)));
  CHECK_FALSE(cannery::is_curve_key(std::string(40, '#')));  // in the alphabet, above 2^32

  auto e = capture_error([&] { cannery::check_curve_key("abc", "server public key"); });
  CHECK(e.code() == errc::invalid_argument);
  CHECK_THAT(e.message(), Catch::Contains("server public key"));
  CHECK_THAT(e.message(), Catch::Contains("40"));
  e = capture_error([&] { cannery::check_curve_key(" " + keys.public_key.substr(1), "key"); });
  CHECK_THAT(e.message(), Catch::Contains("Z85 alphabet"));
}

TEST_CASE("a key pair round-trips through its files with private permissions",
          "[messaging][curve]") {
  TempDir dir;
  const auto base = dir / "engine";
  const auto keys = cannery::generate_curve_keypair();
  cannery::write_curve_keypair(base, keys);

  const fs::path secret = dir / "engine.key";
  const fs::path pub = dir / "engine.key.pub";
  CHECK(cannery::test::file_mode(secret) == 0600);
  CHECK(cannery::test::file_mode(pub) == 0644);

  const auto back = cannery::read_curve_keypair(secret);
  CHECK(back.public_key == keys.public_key);
  CHECK(back.secret_key == keys.secret_key);
  CHECK(cannery::read_curve_public_key(pub) == keys.public_key);

  std::ifstream in(pub);
  const std::string pub_text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  CHECK(pub_text.find(keys.secret_key) == std::string::npos);

  SECTION("existing files are not overwritten unless asked") {
    const auto other = cannery::generate_curve_keypair();
    const auto e = capture_error([&] { cannery::write_curve_keypair(base, other); });
    CHECK(e.code() == errc::io_error);
    CHECK_THAT(e.message(), Catch::Contains("already exists"));
    CHECK(cannery::read_curve_keypair(secret).secret_key == keys.secret_key);

    cannery::write_curve_keypair(base, other, cannery::ExistingKeyFiles::replace);
    CHECK(cannery::read_curve_keypair(secret).secret_key == other.secret_key);
    CHECK(cannery::read_curve_public_key(pub) == other.public_key);
    CHECK(cannery::test::file_mode(secret) == 0600);
  }
  SECTION("a secret file that group or others can read is refused") {
    REQUIRE(::chmod(secret.c_str(), 0640) == 0);
    const auto e = capture_error([&] { cannery::read_curve_keypair(secret); });
    CHECK(e.code() == errc::io_error);
    CHECK_THAT(e.message(), Catch::Contains("chmod 600"));
    REQUIRE(::chmod(secret.c_str(), 0604) == 0);
    CHECK(capture_error([&] { cannery::read_curve_keypair(secret); }).code() == errc::io_error);
    // The public file may be world-readable; that is its purpose.
    CHECK(cannery::read_curve_public_key(pub) == keys.public_key);
  }
}

TEST_CASE("damaged or mismatched key files are refused", "[messaging][curve]") {
  TempDir dir;
  const auto a = cannery::generate_curve_keypair();
  const auto b = cannery::generate_curve_keypair();

  // A public key that does not belong to the secret key is caught early.
  const CurveKeyPair mixed{a.public_key, b.secret_key};
  CHECK(capture_error([&] { cannery::write_curve_keypair(dir / "mixed", mixed); }).code() ==
        errc::invalid_argument);
  CHECK_FALSE(fs::exists(dir / "mixed.key"));

  const auto write_secret = [&](const std::string& text) {
    const auto path = dir / "hand.key";
    {
      std::ofstream out(path, std::ios::trunc);
      out << text;
    }
    REQUIRE(::chmod(path.c_str(), 0600) == 0);
    return path;
  };
  auto e = capture_error([&] { cannery::read_curve_keypair(write_secret("not json")); });
  CHECK(e.code() == errc::invalid_argument);
  CHECK_THAT(e.message(), Catch::Contains("hand.key"));
  e = capture_error(
      [&] { cannery::read_curve_keypair(write_secret("{\"public\": \"" + a.public_key + "\"}")); });
  CHECK_THAT(e.message(), Catch::Contains("\"secret\""));
  e = capture_error([&] {
    cannery::read_curve_keypair(write_secret("{\"public\": \"" + a.public_key +
                                             "\", \"secret\": \"" + b.secret_key + "\"}"));
  });
  CHECK_THAT(e.message(), Catch::Contains("does not belong"));
  e = capture_error([&] {
    cannery::read_curve_keypair(
        write_secret("{\"public\": \"" + a.public_key + "\", \"secret\": 7}"));
  });
  CHECK_THAT(e.message(), Catch::Contains("\"secret\""));
  CHECK(capture_error([&] { cannery::read_curve_public_key(dir / "absent.key.pub"); }).code() ==
        errc::io_error);
}

// ---------------------------------------------------------------------------
// Who gets in

TEST_CASE("a CURVE client with allowed keys exchanges messages over tcp", "[messaging][curve]") {
  CurveServer server(zmq::socket_type::router, "tcp://127.0.0.1:*");
  auto client =
      server.client(zmq::socket_type::dealer, server.engine, server.controller.public_key);
  REQUIRE(client.send(zmq::str_buffer("ping"), zmq::send_flags::dontwait));

  auto request = receive_within(server.socket, kPatience);
  REQUIRE(request);
  REQUIRE(request->size() == 2);
  CHECK((*request)[1].to_string() == "ping");
  // The authenticator hands the client's key to the server as its user id.
  CHECK(user_id((*request)[1]) == server.engine.public_key);

  server.socket.send((*request)[0], zmq::send_flags::sndmore);
  server.socket.send(zmq::str_buffer("pong"), zmq::send_flags::none);
  auto reply = receive_within(client, kPatience);
  REQUIRE(reply);
  CHECK((*reply)[0].to_string() == "pong");
  CHECK(server.authenticator->accepted() >= 1);
}

TEST_CASE("a CURVE client with allowed keys exchanges messages over ipc", "[messaging][curve]") {
  TempDir dir;
  CurveServer server(zmq::socket_type::pull, "ipc://" + (dir / "curve.sock").string());
  auto client = server.client(zmq::socket_type::push, server.engine, server.controller.public_key);
  push(client, "over ipc");
  auto message = receive_within(server.socket, kPatience);
  REQUIRE(message);
  CHECK((*message)[0].to_string() == "over ipc");
}

TEST_CASE("clients without the right keys get no message through", "[messaging][curve]") {
  CurveServer server(zmq::socket_type::pull, "tcp://127.0.0.1:*");

  SECTION("a client that trusts the wrong server key") {
    const auto impostor = cannery::generate_curve_keypair();
    auto client = server.client(zmq::socket_type::push, server.engine, impostor.public_key);
    push(client, "wrong server key");
    CHECK_FALSE(receive_within(server.socket, kRefusalWindow));
  }
  SECTION("a client whose key is not in the allow-list") {
    const auto stranger = cannery::generate_curve_keypair();
    const auto refused_before = server.authenticator->refused();
    auto client = server.client(zmq::socket_type::push, stranger, server.controller.public_key);
    push(client, "not allowed");
    CHECK_FALSE(receive_within(server.socket, kRefusalWindow));
    CHECK(eventually([&] { return server.authenticator->refused() > refused_before; }));
    CHECK(server.authenticator->accepted() == 0);
  }
  SECTION("a plain client without CURVE, in either direction") {
    auto client = server.plain_client(zmq::socket_type::push);
    push(client, "plain");
    CHECK_FALSE(receive_within(server.socket, kRefusalWindow));

    CurveServer sender(zmq::socket_type::push, "tcp://127.0.0.1:*");
    auto listener = sender.plain_client(zmq::socket_type::pull);
    // No peer ever completes the handshake, so there is nowhere to queue it.
    CHECK_FALSE(sender.socket.send(zmq::str_buffer("secret"), zmq::send_flags::dontwait));
    CHECK_FALSE(receive_within(listener, kRefusalWindow));
  }
  // The refused clients did not disturb the allowed one.
  auto engine = server.client(zmq::socket_type::push, server.engine, server.controller.public_key);
  push(engine, "still works");
  auto message = receive_within(server.socket, kPatience);
  REQUIRE(message);
  CHECK((*message)[0].to_string() == "still works");
}

TEST_CASE("revoke refuses new connections and allow admits new keys", "[messaging][curve]") {
  CurveServer server(zmq::socket_type::pull, "tcp://127.0.0.1:*");
  CHECK(server.authenticator->is_allowed(server.engine.public_key));

  server.authenticator->revoke(server.engine.public_key);
  CHECK_FALSE(server.authenticator->is_allowed(server.engine.public_key));
  const auto refused_before = server.authenticator->refused();
  {
    auto client =
        server.client(zmq::socket_type::push, server.engine, server.controller.public_key);
    push(client, "revoked");
    CHECK_FALSE(receive_within(server.socket, kRefusalWindow));
    CHECK(eventually([&] { return server.authenticator->refused() > refused_before; }));
  }

  const auto newcomer = cannery::generate_curve_keypair();
  server.authenticator->allow(newcomer.public_key);
  auto client = server.client(zmq::socket_type::push, newcomer, server.controller.public_key);
  push(client, "welcome");
  auto message = receive_within(server.socket, kPatience);
  REQUIRE(message);
  CHECK((*message)[0].to_string() == "welcome");

  CHECK(capture_error([&] { server.authenticator->allow("not a key"); }).code() ==
        errc::invalid_argument);
}

TEST_CASE("a CURVE server without an authenticator admits nobody", "[messaging][curve]") {
  // make_curve_server enforces ZAP, so a forgotten authenticator fails closed.
  zmq::context_t context;
  const auto controller = cannery::generate_curve_keypair();
  const auto engine = cannery::generate_curve_keypair();
  auto server = make_socket(context, zmq::socket_type::pull);
  cannery::make_curve_server(server, controller);
  server.bind("tcp://127.0.0.1:*");
  auto client = make_socket(context, zmq::socket_type::push);
  cannery::make_curve_client(client, engine, controller.public_key);
  client.connect(server.get(zmq::sockopt::last_endpoint));
  push(client, "unchecked");
  CHECK_FALSE(receive_within(server, kRefusalWindow));
}

TEST_CASE("one authenticator per context, started and stopped promptly", "[messaging][curve]") {
  zmq::context_t context;
  {
    cannery::CurveAuthenticator first(context, {});
    const auto e = capture_error([&] { cannery::CurveAuthenticator second(context, {}); });
    CHECK(e.code() == errc::invalid_argument);
    CHECK_THAT(e.message(), Catch::Contains("one CurveAuthenticator per context"));
  }
  // The endpoint is free again once the first is gone; a hang here would stop
  // the test run, which is the point.
  for (int i = 0; i < 20; ++i)
    cannery::CurveAuthenticator again(context, {});

  CHECK(capture_error([&] { cannery::CurveAuthenticator bad(context, {"short"}); }).code() ==
        errc::invalid_argument);
}

TEST_CASE("socket setup refuses bad keys before touching the socket", "[messaging][curve]") {
  zmq::context_t context;
  auto socket = make_socket(context, zmq::socket_type::dealer);
  const auto keys = cannery::generate_curve_keypair();
  CHECK(capture_error([&] { cannery::make_curve_client(socket, keys, "short"); }).code() ==
        errc::invalid_argument);
  CHECK(capture_error([&] {
          cannery::make_curve_server(socket, {keys.public_key, "x"});
        }).code() == errc::invalid_argument);
  const auto other = cannery::generate_curve_keypair();
  CHECK(capture_error([&] {
          cannery::make_curve_client(socket, {other.public_key, keys.secret_key}, keys.public_key);
        }).code() == errc::invalid_argument);
}

// ---------------------------------------------------------------------------
// cannery-keygen

TEST_CASE("cannery-keygen writes usable key files and refuses to overwrite them",
          "[messaging][curve][keygen]") {
  TempDir dir;
  const std::string base = (dir / "controller").string();
  int code = -1;

  std::string printed = run_command(keygen_command("'" + base + "'"), code);
  REQUIRE(code == 0);
  REQUIRE(printed.size() == 41);  // the key and a newline
  const std::string public_key = printed.substr(0, 40);
  CHECK(cannery::read_curve_public_key(base + ".key.pub") == public_key);
  const auto keys = cannery::read_curve_keypair(base + ".key");
  CHECK(keys.public_key == public_key);
  CHECK(cannery::test::file_mode(base + ".key") == 0600);

  // Usable: a server with these keys admits an allowed client.
  {
    zmq::context_t context;
    const auto engine = cannery::generate_curve_keypair();
    cannery::CurveAuthenticator authenticator(context, {engine.public_key});
    auto server = make_socket(context, zmq::socket_type::pull);
    cannery::make_curve_server(server, keys);
    server.bind("tcp://127.0.0.1:*");
    auto client = make_socket(context, zmq::socket_type::push);
    cannery::make_curve_client(client, engine, cannery::read_curve_public_key(base + ".key.pub"));
    client.connect(server.get(zmq::sockopt::last_endpoint));
    push(client, "keygen keys");
    const auto message = receive_within(server, kPatience);
    REQUIRE(message);
    CHECK((*message)[0].to_string() == "keygen keys");
  }

  // Without --force nothing changes.
  printed = run_command(keygen_command("'" + base + "'"), code);
  CHECK(code == 1);
  CHECK(printed.empty());
  CHECK(cannery::read_curve_keypair(base + ".key").secret_key == keys.secret_key);

  printed = run_command(keygen_command("--force '" + base + "'"), code);
  CHECK(code == 0);
  CHECK(printed.substr(0, 40) != public_key);
  CHECK(cannery::read_curve_public_key(base + ".key.pub") == printed.substr(0, 40));

  run_command(keygen_command(""), code);
  CHECK(code == 2);
  run_command(keygen_command("--bogus '" + base + "'"), code);
  CHECK(code == 2);
  run_command(keygen_command("a b"), code);
  CHECK(code == 2);
  printed = run_command(keygen_command("--help"), code);
  CHECK(code == 0);
  CHECK_THAT(printed, Catch::Contains("usage: cannery-keygen"));
  run_command(keygen_command("'" + (dir / "missing-dir" / "x").string() + "'"), code);
  CHECK(code == 1);
}
