// Connection file, registration, engines(), unknown peers, re-registration.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

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

  FakeEngine engine(a.connection_info());  // over ipc
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
  CHECK(cluster.controller.apply(any_engine, "add", 2, 3).get<int>(5000ms) == 5);
}

TEST_CASE("engines register and are listed with what they told", "[controller]") {
  Cluster cluster(2);
  auto engines = cluster.controller.engines();
  REQUIRE(engines.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(engines[i].id == static_cast<int>(i));
    CHECK(engines[i].uuid == cluster[i].uuid());
    CHECK(engines[i].pid == cluster[i].pid());
    CHECK(engines[i].hostname == "fake-host");
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
  auto request = [&](std::int64_t attempt) {
    engine.send(
        "registration_request",
        {{"uuid", Object("repeater")}, {"pid", Object(4242)}, {"registrations", Object(attempt)}});
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
  CHECK(cluster.controller.apply(0, "add", 1, 1).get<int>(5000ms) == 2);
}

TEST_CASE("an engine declared dead is accepted again when it comes back", "[controller]") {
  Cluster cluster(1);
  cluster[0].set_silent(true);
  REQUIRE(wait_until([&] { return cluster.controller.engine_ids().empty(); }));
  cluster[0].set_silent(false);
  // Its next heartbeat gets unknown_engine; it registers again.
  REQUIRE(wait_until([&] { return cluster.controller.engine_ids() == std::vector<int>{0}; }));
  CHECK(cluster[0].count("unknown_engine") >= 1);
  CHECK(cluster.controller.apply(0, "add", 1, 2).get<int>(5000ms) == 3);
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
  FakeEngineOptions good;
  good.curve_client = allowed;
  FakeEngine engine(controller.connection_info(), good);
  REQUIRE(engine.wait_registered() == 0);
  CHECK(controller.apply(0, "add", 20, 22).get<int>(5000ms) == 42);
  FakeEngineOptions bad;
  bad.curve_client = other;
  FakeEngine stranger(controller.connection_info(), bad);
  CHECK(stranger.wait_registered(300ms) == -1);
  CHECK(controller.engine_ids() == std::vector<int>{0});
}
