// Connection file, registration, engines(), unknown peers, re-registration.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

namespace {

// A plain TCP connection to a tcp://127.0.0.1:PORT endpoint, saying nothing
// (no ZeroMQ greeting); -1 when it fails.
int connect_tcp(const std::string& endpoint) {
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("the connection file is 0600, holds a fresh key and the engines endpoint",
          "[controller]") {
  std::filesystem::path file;
  {
    Controller controller;
    file = controller.connection_file();
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    struct stat dir {};
    REQUIRE(::stat(file.parent_path().c_str(), &dir) == 0);
    CHECK((dir.st_mode & 0077) == 0);  // a private directory
    ConnectionInfo info = read_connection_file(file);
    CHECK(info.key.size() == 64);
    CHECK(info.key == controller.connection_info().key);
    CHECK(info.endpoints.at("engines") == controller.endpoint());
    CHECK(controller.endpoint().rfind("tcp://127.0.0.1:", 0) == 0);
  }
  CHECK_FALSE(std::filesystem::exists(file));  // made up by the controller, removed with it
}

TEST_CASE("two controllers get different keys, and an explicit key and file are used",
          "[controller]") {
  TempDir dir;
  ControllerOptions o;
  o.key = "my-key";
  o.connection_file = dir / "c.json";
  o.endpoint = "ipc://" + (dir / "engines").string();
  Controller a(o);
  Controller b;
  Controller c;
  CHECK(read_connection_file(dir / "c.json").key == "my-key");
  CHECK(a.endpoint() == o.endpoint);
  CHECK(b.connection_info().key != c.connection_info().key);

  InProcessEngine engine(a.connection_info());  // over ipc
  CHECK(engine.wait_registered() == 0);
}

TEST_CASE("a key together with insecure is refused", "[controller]") {
  ControllerOptions o;
  o.key = "k";
  o.insecure = true;
  CHECK(capture_error([&] { Controller c(o); }).code() == errc::invalid_argument);
}

TEST_CASE("insecure mode runs unsigned when asked", "[controller]") {
  ControllerOptions o = fast_options();
  o.insecure = true;
  Cluster cluster(1, o);
  CHECK(cluster.controller.connection_info().key.empty());
  CHECK(cluster.controller.apply(any_engine, "add", 2, 3).get<double>(5000ms) == 5);
}

TEST_CASE("engines register and are listed with what they told", "[controller]") {
  Cluster cluster(2);
  auto engines = cluster.controller.engines();
  REQUIRE(engines.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(engines[i].id == static_cast<int>(i));
    CHECK(engines[i].uuid == cluster[i].uuid());
    CHECK(engines[i].pid == cluster[i].pid());
    CHECK(engines[i].hostname == "in-process-host");
    CHECK(engines[i].alive);
    CHECK(engines[i].in_flight == 0);
    CHECK(std::find(engines[i].functions.begin(), engines[i].functions.end(), "add") !=
          engines[i].functions.end());
    CHECK(cluster[i].engine_id() == static_cast<int>(i));
  }
  CHECK(cluster.controller.engine_ids() == std::vector<int>{0, 1});
}

TEST_CASE("wait_for_engines times out with an actionable message", "[controller]") {
  Controller controller(fast_options());
  auto e = capture_error([&] { controller.wait_for_engines(1, 100ms); });
  CHECK(e.code() == errc::timeout);
  CHECK_THAT(e.what(), Catch::Contains("--connection-file"));
}

TEST_CASE("a message from an unknown routing id is answered with unknown_engine", "[controller]") {
  Controller controller(fast_options());
  RawPeer stranger(controller, controller.endpoint(), "engine-stranger");
  stranger.send("heartbeat");
  std::optional<Message> answer;
  for (int i = 0; i < 50 && !answer; ++i) {
    answer = stranger.session.receive(stranger.dealer, 100ms);
    if (answer && answer->header.msg_type != "unknown_engine") answer.reset();
  }
  REQUIRE(answer);
  CHECK(controller.stats().unknown_peer_messages >= 1);
  CHECK(controller.engines().empty());
}

TEST_CASE("a heartbeat from an unknown routing id is answered with unknown_engine",
          "[controller]") {
  Controller controller(fast_options());
  RawPeer stranger(controller, controller.heartbeat_endpoint(), "engine-stranger");
  stranger.send("heartbeat");
  auto answer = stranger.session.receive(stranger.dealer, 5000ms);
  REQUIRE(answer);
  CHECK(answer->header.msg_type == "unknown_engine");
  REQUIRE(answer->parent_header);
  CHECK(answer->parent_header->msg_type == "heartbeat");
  CHECK(controller.stats().unknown_peer_messages == 1);
  CHECK(controller.stats().heartbeats_received == 0);
  CHECK(controller.engines().empty());
}

TEST_CASE("the heart socket refuses anything but heartbeats, and unsigned messages",
          "[controller]") {
  Controller controller(fast_options());
  RawPeer peer(controller, controller.heartbeat_endpoint());
  peer.send("registration_request", {{"uuid", Object("x")}});
  RawPeer forger(controller, controller.heartbeat_endpoint(), {}, "wrong");
  forger.send("heartbeat");
  CHECK(wait_until([&] { return controller.stats().messages_refused == 2; }));
  CHECK_FALSE(peer.session.receive(peer.dealer, 100ms));
  CHECK_FALSE(forger.session.receive(forger.dealer, 10ms));
  CHECK(controller.engines().empty());
}

TEST_CASE("registration requests repeated while waiting count as one attempt", "[controller]") {
  Controller controller(fast_options());
  RawPeer engine(controller, controller.endpoint(), "engine-repeater");
  auto request = [&](std::uint64_t attempt) {
    engine.send(registration("repeater", 4242, attempt));
  };
  auto replies = [&](std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      auto m = engine.session.receive(engine.dealer, 5000ms);
      if (!m) return false;
      got += m->header.msg_type == "registration_reply" ? 1 : 0;
    }
    return true;
  };
  // A burst queued behind a partition: each is answered, one is counted.
  for (int i = 0; i < 3; ++i)
    request(0);
  REQUIRE(replies(3));
  CHECK(controller.engines().at(0).registrations == 1);
  CHECK(controller.stats().re_registrations == 0);
  // A new attempt of the same process: it took the controller for gone.
  request(1);
  request(1);
  REQUIRE(replies(2));
  CHECK(controller.engines().at(0).registrations == 2);
  CHECK(controller.stats().re_registrations == 1);
  CHECK(controller.stats().engines_died == 0);
}

TEST_CASE("a message signed with another key is refused and counted", "[controller]") {
  Controller controller(fast_options());
  RawPeer forger(controller, controller.endpoint(), {}, "wrong");
  forger.send("registration_request", {{"uuid", Object("x")}});
  CHECK(wait_until([&] { return controller.stats().messages_refused >= 1; }));
  CHECK(controller.engines().empty());
}

TEST_CASE("the same engine registering again keeps its id and its tasks", "[controller]") {
  Cluster cluster(1);
  auto held = cluster.controller.apply(0, "hold");
  REQUIRE(wait_until([&] { return cluster[0].held() == 1; }));
  cluster[0].register_again();  // same pid: the same process
  REQUIRE(wait_until([&] { return cluster[0].count("registration_reply") == 2; }));
  CHECK(cluster[0].engine_id() == 0);
  CHECK(cluster.controller.stats().re_registrations == 1);
  CHECK(cluster.controller.engines().at(0).registrations == 2);
  cluster[0].release_held();
  CHECK(held.get<std::string>(5000ms) == cluster[0].uuid());
  CHECK(cluster.controller.engines().size() == 1);
}

TEST_CASE("an engine restarted under the same uuid loses its running tasks", "[controller]") {
  Cluster cluster(1);
  auto held = cluster.controller.apply(0, "hold");
  REQUIRE(wait_until([&] { return cluster[0].held() == 1; }));
  cluster[0].register_again(cluster[0].pid() + 1000);  // another process
  auto e = capture_error([&] { held.get(5000ms); });
  CHECK(e.code() == errc::engine_died);
  CHECK(cluster.controller.engine_ids() == std::vector<int>{0});  // same id, alive again
  CHECK(cluster.controller.apply(0, "add", 1, 1).get<double>(5000ms) == 2);
}

TEST_CASE("an engine declared dead is accepted again when it comes back", "[controller]") {
  Cluster cluster(1);
  cluster[0].set_silent(true);
  REQUIRE(wait_until([&] { return cluster.controller.engine_ids().empty(); }));
  cluster[0].set_silent(false);
  // Its next heartbeat gets unknown_engine; it registers again.
  REQUIRE(wait_until([&] { return cluster.controller.engine_ids() == std::vector<int>{0}; }));
  CHECK(cluster[0].count("unknown_engine") >= 1);
  CHECK(cluster.controller.apply(0, "add", 1, 2).get<double>(5000ms) == 3);
  CHECK(cluster.controller.stats().engines_died == 1);
}

TEST_CASE("with CURVE only allowed engines get in", "[controller]") {
  const CurveKeyPair server = generate_curve_keypair();
  const CurveKeyPair allowed = generate_curve_keypair();
  const CurveKeyPair other = generate_curve_keypair();
  ControllerOptions o = fast_options();
  o.curve_server = server;
  o.curve_allowed_engines = {allowed.public_key};
  Controller controller(o);
  CHECK(controller.connection_info().curve_server_public_key == server.public_key);
  CHECK(read_connection_file(controller.connection_file()).curve_server_public_key ==
        server.public_key);
  InProcessEngineOptions good;
  good.curve_client = allowed;
  InProcessEngine engine(controller.connection_info(), good);
  REQUIRE(engine.wait_registered() == 0);
  CHECK(controller.apply(0, "add", 20, 22).get<double>(5000ms) == 42);
  InProcessEngineOptions bad;
  bad.curve_client = other;
  InProcessEngine stranger(controller.connection_info(), bad);
  CHECK(stranger.wait_registered(300ms) == -1);
  CHECK(controller.engine_ids() == std::vector<int>{0});
}

TEST_CASE("a live engine's uuid cannot be taken over from another connection", "[controller]") {
  Cluster cluster(1);
  auto& controller = cluster.controller;
  auto held = controller.apply(0, "hold");
  REQUIRE(wait_until([&] { return cluster[0].held() == 1; }));
  // Someone with the key registers under the live engine's uuid (it travels
  // in clear) from a connection of its own.
  RawPeer impostor(controller, controller.endpoint(), "engine-impostor");
  impostor.send(registration(cluster[0].uuid(), cluster[0].pid()));
  REQUIRE(wait_until([&] { return controller.stats().messages_refused == 1; }));
  CHECK_FALSE(impostor.session.receive(impostor.dealer, 50ms));  // no registration_reply
  CHECK(controller.stats().engines_died == 0);
  CHECK(controller.engines().at(0).alive);
  cluster[0].release_held();
  CHECK(held.get<std::string>(5000ms) == cluster[0].uuid());  // its task was not failed
}

TEST_CASE("records of dead engines are bounded", "[controller]") {
  ControllerOptions o = fast_options();
  o.max_dead_engine_records = 2;
  Cluster cluster(5, o);
  auto& controller = cluster.controller;
  REQUIRE(controller.engines().size() == 5);
  auto alive = [&](int id) {
    for (const auto& e : controller.engines())
      if (e.id == id) return e.alive;
    return false;  // forgotten
  };
  for (int i = 0; i < 4; ++i) {
    cluster[static_cast<std::size_t>(i)].set_silent(true);
    // One at a time, so that their deaths are ordered.
    REQUIRE(wait_until([&] { return !alive(i); }, 5000ms));
  }
  // Alive: engine 4; dead: the two that died last (2 and 3).
  REQUIRE(wait_until([&] { return controller.engines().size() == 3; }));
  std::vector<int> ids;
  for (const auto& e : controller.engines())
    ids.push_back(e.id);
  CHECK(ids == std::vector<int>{2, 3, 4});
  CHECK(controller.stats().engines_died == 4);
  // A forgotten engine that comes back gets a new id.
  cluster[0].set_silent(false);
  REQUIRE(wait_until([&] { return cluster[0].engine_id() == 5; }));
  CHECK(capture_error([&] { controller.apply(0, "add", 1, 2).get(); }).code() ==
        errc::invalid_argument);
}

TEST_CASE("a connection that never finishes the handshake is closed", "[controller]") {
  ControllerOptions o = fast_options();
  o.handshake_timeout = 300ms;
  Controller controller(o);
  const int fd = connect_tcp(controller.endpoint());
  REQUIRE(fd >= 0);
  // Say nothing; the controller hangs up (read returns 0) once the handshake
  // time is over. Bounded by a receive timeout.
  timeval wait{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  char byte = 0;
  const auto start = std::chrono::steady_clock::now();
  ssize_t n = 0;
  // libzmq sends its greeting first: read past it until the close.
  do {
    n = ::recv(fd, &byte, 1, 0);
  } while (n > 0);
  CHECK(n == 0);
  CHECK(std::chrono::steady_clock::now() - start < 4000ms);
  ::close(fd);
}

TEST_CASE(
    "a controller raises its open-file limit so that idle connections do not lock engines out",
    "[controller]") {
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max < 1024) {
    WARN("skipped: the hard open-file limit here is " << limit.rlim_max);
    return;
  }
  rlimit low = limit;
  low.rlim_cur = 256;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  Controller controller(fast_options());
  rlimit now{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(now.rlim_cur == limit.rlim_max);
  // 300 idle connections (more than the old soft limit), then an engine.
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(connect_tcp(controller.endpoint()));
    REQUIRE(idle.back() >= 0);
  }
  InProcessEngine engine(controller.connection_info());
  CHECK(engine.wait_registered() == 0);
  for (int fd : idle)
    ::close(fd);
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

TEST_CASE("a frame larger than max_frame_bytes closes the sender's connection unbuffered",
          "[controller]") {
  ControllerOptions o = fast_options();
  o.max_frame_bytes = 1 << 20;
  Controller controller(o);
  RawPeer sender(controller, controller.endpoint(), "engine-big");
  // A registration with a 2 MiB buffer frame: libzmq drops the connection
  // when the frame's header says its size, so the message never arrives.
  Message m = sender.session.message("registration_request",
                                     Object::Dict{{"uuid", Object("big")}, {"pid", Object(1)}});
  m.buffers.push_back(Buffer::copy_of(std::string(2 << 20, 'x')));
  sender.session.send(sender.dealer, m);
  RawPeer fine(controller, controller.endpoint(), "engine-fine");
  fine.send(registration("fine", 2));
  REQUIRE(wait_until([&] { return controller.engines().size() == 1; }));
  CHECK(controller.engines().front().uuid == "fine");
}

TEST_CASE("an engine's host and launcher rank show in engines()", "[controller]") {
  Controller controller(fast_options());
  RawPeer ranked(controller, controller.endpoint(), "engine-ranked");
  protocol::RegistrationRequest request = registration("ranked", 77);
  request.hostname = "node-3";
  request.rank = 12;
  ranked.send(request);
  // An engine of protocol 1.0 sends no rank.
  RawPeer plain(controller, controller.endpoint(), "engine-plain");
  protocol::RegistrationRequest older = registration("plain", 78);
  older.protocol = "1.0";
  plain.send(older);
  controller.wait_for_engines(2, 5000ms);
  for (const EngineInfo& e : controller.engines()) {
    INFO(e.uuid);
    if (e.uuid == "ranked") {
      CHECK(e.rank == 12);
      CHECK(e.hostname == "node-3");
      CHECK(e.pid == 77);
    } else {
      CHECK(e.rank == -1);
    }
  }
}
