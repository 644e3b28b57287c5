// An in-process Engine driven by a scripted controller (tests/engine/
// scripted_controller.hpp) through the protocol of docs/protocol.md:
// registration and protocol versions, heartbeats, apply / map / push / pull /
// put / release, error replies, refused messages, re-registration, and the
// ways run() ends.

#include <unistd.h>
#include <csignal>
#include <stdexcept>

#include <cannery/messaging/shared_memory.hpp>

#include "scripted_controller.hpp"

namespace {

using namespace cannery::test;
using cannery::Object;
using cannery::protocol::RefArgument;

// Requests with the fields a test sets. ScriptedController::request gives
// each a fresh task id; a test that sends one itself picks it (apply_task,
// scripted_controller.hpp).
proto::MapRequest map_of(std::uint64_t count) {
  return {.task = 0, .count = count, .shared_memory = std::nullopt};
}
proto::PutRequest put_ref(std::uint64_t ref) {
  return {.ref = ref, .shared_memory = std::nullopt};
}

}  // namespace

namespace engine_test {
struct SolverFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace engine_test

TEST_CASE("an engine registers, sends heartbeats and answers an apply_request",
          "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();

  auto request = controller.expect<proto::RegistrationRequest>();
  REQUIRE(request);
  const proto::RegistrationRequest& registration = request->content;
  CHECK(registration.uuid == running.engine.uuid());
  CHECK(registration.pid == ::getpid());
  CHECK_FALSE(registration.hostname.empty());
  const std::vector<std::string>& functions = registration.functions;
  CHECK(functions == std::as_const(running.engine).functions().names());
  CHECK(std::find(functions.begin(), functions.end(), "trace_scaled") != functions.end());
  CHECK(controller.peer.as_string_view() == "engine-" + running.engine.uuid());
  CHECK_FALSE(running.engine.id());

  CHECK(controller.heartbeats() == 0);  // not before it is registered
  controller.send(controller.registration_reply(3, 50, 200));
  CHECK(running.has_id_within(3));
  // On the heart socket, never on the work socket.
  CHECK(controller.more_heartbeats_within(2, 2s));

  auto reply = controller.apply("add", 2.0, 3.0);
  CHECK(reply.content.status == proto::Status::ok);
  CHECK(reply.content.engine_id == 3);
  CHECK(result_of<double>(reply) == 5.0);

  Eigen::MatrixXd m = Eigen::MatrixXd::Random(100, 100);
  reply = controller.apply("trace_scaled", m, 2.0);
  CHECK(result_of<double>(reply) == Approx(2.0 * m.trace()));
  reply = controller.apply("describe", m, std::vector<double>{1, 2}, 2.5, std::int64_t{7},
                           std::string("run"));
  CHECK(result_of<std::string>(reply).find("matrix 100x100") == 0);
  reply = controller.apply("pid");
  CHECK(result_of<std::int64_t>(reply) == ::getpid());

  // An array result travels back as an array, viewable in place.
  reply = controller.apply("echo", std::vector<double>(5000, 1.5));
  auto echoed = result_of<std::span<const double>>(reply);
  CHECK(echoed.size() == 5000);
  CHECK(echoed[4999] == 1.5);
}

TEST_CASE("errors become error replies and the engine keeps serving", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.engine.function(
      "solve", [](double) -> double { throw engine_test::SolverFailed("did not converge"); });
  running.engine.function("throw_int", []() -> int { throw 42; });
  running.start();
  controller.register_engine();

  auto error_of = [](const Received<proto::ApplyReply>& reply) {
    CHECK(reply.content.status == proto::Status::error);
    CHECK(reply.content.engine_id == 3);
    CHECK(reply.message.buffers.empty());
    return failure_of(reply);
  };

  auto [f1, e1, v1] = error_of(controller.apply("nope", 1));
  CHECK(f1 == "nope");
  CHECK(e1 == "cannery.unknown_function");
  CHECK(v1.find("no function named 'nope'") != std::string::npos);

  auto [f2, e2, v2] = error_of(controller.apply("add", 1.0, std::string("two")));
  CHECK(f2 == "add");
  CHECK(e2 == "cannery.type_mismatch");
  CHECK(v2 == "argument 1 of 'add': expected float, got str");

  auto [f3, e3, v3] = error_of(controller.apply("add", 1.0, 2.0, 3.0));
  CHECK(e3 == "cannery.invalid_argument");
  CHECK(v3 == "'add' takes 2 arguments, 3 were sent");

  auto [f4, e4, v4] = error_of(controller.apply("fail", std::string("boom")));
  CHECK(f4 == "fail");
  CHECK(e4 == "std::runtime_error");
  CHECK(v4 == "boom");

  auto [f5, e5, v5] = error_of(controller.apply("solve", 1.0));
  CHECK(e5 == "engine_test::SolverFailed");
  CHECK(v5 == "did not converge");

  auto [f6, e6, v6] = error_of(controller.apply("throw_int"));
  CHECK(e6 == "int");

  // Still serving.
  CHECK(result_of<double>(controller.apply("add", 1.0, 2.0)) == 3.0);
}

TEST_CASE("refused and malformed messages cost a log line and the engine keeps serving",
          "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine();

  // Signed with another key: refused by the engine's Session.
  cannery::Session forger(keyed("not-the-key"));
  cannery::Message forged = proto::make_message(forger, proto::ShutdownRequest{});
  forged.identities = {controller.peer};
  forger.send(controller.router, forged);
  // Not a message at all.
  std::vector<zmq::message_t> junk;
  controller.router.send(zmq::buffer(controller.peer.as_string_view()), zmq::send_flags::sndmore);
  controller.router.send(zmq::str_buffer("junk"), zmq::send_flags::none);
  // Signed, but without a task id: nothing to reply to.
  controller.send_content(proto::ApplyRequest::type, without_field(apply_task(1), "task"),
                          cannery::pack_apply_message("add", 1.0, 2.0));
  // Signed, of a type nobody knows.
  controller.send_content("mystery_request", {});

  CHECK(result_of<double>(controller.apply("add", 1.0, 2.0)) == 3.0);
  // Each counted; the signed ones of one kind from one peer logged once per interval.
  CHECK(running.engine.refused_messages() == 4);
  CHECK(log.contains("apply_request: field 'task' is missing"));
  CHECK_FALSE(running.finished_within(0ms));  // the forged shutdown did nothing
}

TEST_CASE("a message of an unknown type is refused, counted and logged short",
          "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine();
  controller.send_content(std::string(100'000, 'x') + "_request", {});
  CHECK(result_of<double>(controller.apply("add", 1.0, 2.0)) == 3.0);
  CHECK(running.engine.refused_messages() == 1);
  CHECK(log.contains("unknown type 'xxxx"));
  std::lock_guard lock(log.mutex);
  std::size_t longest = 0;
  for (const auto& line : log.lines)
    longest = std::max(longest, line.size());
  CHECK(longest < 1200);
}

TEST_CASE("map, push and pull", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();

  auto reply = controller.request(
      map_of(3), cannery::pack_apply_message("square", std::vector<double>{1, 2, 3}));
  CHECK(reply.content.status == proto::Status::ok);
  CHECK(result_of<std::vector<double>>(reply) == std::vector<double>{1, 4, 9});

  std::vector<cannery::Buffer> values;
  cannery::can(cannery::test::ramp(3000)).append_to(values);
  cannery::can(std::string("hello")).append_to(values);
  reply = controller.request(proto::PushRequest{.names = {"weights", "greeting"}}, values);
  CHECK(reply.content.status == proto::Status::ok);
  CHECK(deserialize_object(reply.message.buffers).value.is_null());

  reply = controller.request(proto::PullRequest{.name = "weights"});
  CHECK(result_of<std::vector<double>>(reply) == cannery::test::ramp(3000));
  reply = controller.request(proto::PullRequest{.name = "greeting"});
  CHECK(result_of<std::string>(reply) == "hello");

  // A push whose names and objects disagree stores nothing.
  reply = controller.request(proto::PushRequest{.names = {"a", "b"}}, cannery::serialize_object(1));
  CHECK(failure_of(reply).ename == "cannery.invalid_argument");
  reply = controller.request(proto::PullRequest{.name = "a"});
  CHECK(reply.content.status == proto::Status::error);
}

TEST_CASE("a pull of an unknown name is answered with cannery.unknown_name", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();
  controller.request(proto::PushRequest{.names = {"present"}}, cannery::serialize_object(1));

  auto reply = controller.request(proto::PullRequest{.name = "missing"});
  CHECK(reply.content.status == proto::Status::error);
  CHECK(reply.message.buffers.empty());
  const Failure failure = failure_of(reply);
  CHECK(failure.function == "pull");
  CHECK(failure.ename == "cannery.unknown_name");
  // A code a controller can turn back into an errc.
  CHECK(cannery::errc_from_string(failure.ename.substr(failure.ename.find('.') + 1)) ==
        cannery::errc::unknown_name);
  CHECK(failure.evalue.find("'missing'") != std::string::npos);
  CHECK(result_of<std::int64_t>(controller.request(proto::PullRequest{.name = "present"})) == 1);
}

TEST_CASE("a request whose fields do not fit is answered with an error when its task is readable",
          "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();

  // Alone: a map_request whose count is not a number.
  proto::MapRequest map = map_of(3);
  map.task = 41;
  const std::string sent =
      controller.send_content(proto::MapRequest::type, with_field(map, "count", "three"),
                              cannery::pack_apply_message("square", std::vector<double>{1, 2, 3}));
  auto reply = controller.expect<proto::ApplyReply>();
  REQUIRE(reply);
  CHECK(reply->content.task == 41);
  CHECK(reply->content.status == proto::Status::error);
  REQUIRE(reply->message.parent_header);
  CHECK(reply->message.parent_header->msg_id == sent);
  Failure failure = failure_of(*reply);
  CHECK(failure.function == "map");  // the call's header was not read
  CHECK(failure.ename == "cannery.malformed_message");
  CHECK(failure.evalue.find("map_request: field 'count' is a str") != std::string::npos);

  // In a batch: that part's reply says so, the others are served.
  cannery::BatchBuilder batch;
  batch.add(proto::PullRequest{.task = 42, .name = "x"}, {});
  batch.add(apply_task(43), cannery::pack_apply_message("add", 1.0, 2.0));
  Object::Dict content = batch.take_content(proto::batch_requests_field);
  Object::Dict& pull = content.find(proto::batch_requests_field)->second.to_list().at(0).to_dict();
  REQUIRE(pull.erase("name") == 1);
  controller.send_content(proto::batch_request, std::move(content), batch.take_buffers());
  auto parts = controller.expect_batch_reply();
  REQUIRE(parts);
  REQUIRE(parts->size() == 2);
  CHECK(parts->at(0).content.task == 42);
  failure = failure_of(parts->at(0).content);
  CHECK(failure.function == "pull");
  CHECK(failure.ename == "cannery.malformed_message");
  CHECK(failure.evalue.find("pull_request: field 'name' is missing") != std::string::npos);
  CHECK(result_of<double>(parts->at(1).buffers) == 3.0);

  // Answered, so not refused.
  CHECK(result_of<double>(controller.apply("add", 1.0, 1.0)) == 2.0);
  CHECK(running.engine.refused_messages() == 0);
}

TEST_CASE("a batch_request is answered part by part in one batch_reply", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  const auto registration = controller.register_engine();
  CHECK(proto::has_capability(registration.content.capabilities, proto::capability::batches));

  cannery::BatchBuilder batch;
  // The put's object is there for the request after it, as if each came alone.
  batch.add(put_ref(7), cannery::serialize_object(std::vector<double>{1, 2, 3}));
  batch.add(apply_task(1), cannery::pack_apply_message("sum", RefArgument{7}));
  batch.add(proto::Heartbeat{}, {});  // skipped
  batch.add(apply_task(2), cannery::pack_apply_message("fail", std::string("no")));
  batch.add(apply_task(3), cannery::pack_apply_message("add", 1.0, 2.0));
  controller.send_content(proto::batch_request, batch.take_content(proto::batch_requests_field),
                          batch.take_buffers());

  auto parts = controller.expect_batch_reply();
  REQUIRE(parts);
  REQUIRE(parts->size() == 3);
  for (const ReplyPart& part : *parts)
    CHECK(part.type == proto::ApplyReply::type);
  CHECK(parts->at(0).content.task == 1);
  CHECK(result_of<double>(parts->at(0).buffers) == 6.0);
  CHECK(parts->at(1).content.task == 2);
  CHECK(parts->at(1).content.status == proto::Status::error);
  CHECK(failure_of(parts->at(1).content).evalue == "no");
  CHECK(parts->at(2).content.engine_id == 3);
  CHECK(result_of<double>(parts->at(2).buffers) == 3.0);
  CHECK(controller.skipped_count(proto::ApplyReply::type) == 0);
}

TEST_CASE("a batch_request whose counts do not add up is ignored", "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine();

  cannery::BatchBuilder batch;
  batch.add(apply_task(1), cannery::pack_apply_message("add", 1.0, 2.0));
  auto buffers = batch.take_buffers();
  buffers.pop_back();  // one frame fewer than the part counts
  controller.send_content(proto::batch_request, batch.take_content(proto::batch_requests_field),
                          std::move(buffers));
  // Served right after.
  CHECK(result_of<double>(controller.apply("add", 2.0, 2.0)) == 4.0);
  CHECK(controller.skipped_count(proto::batch_reply) == 0);
  CHECK(log.contains("ignored a batch_request"));
}

TEST_CASE("put caches an object for reference arguments until release", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();

  std::map<std::string, Eigen::MatrixXd> weights{{"w1", Eigen::MatrixXd::Ones(200, 100)},
                                                 {"w2", Eigen::MatrixXd::Constant(50, 50, 2.0)}};
  controller.send(put_ref(11), cannery::serialize_object(weights));
  controller.send(put_ref(12), cannery::serialize_object(cannery::test::ramp(100)));
  // No reply to a put: the next message is the apply's reply.
  auto reply = controller.apply("sum_all", RefArgument{11});
  CHECK(result_of<double>(reply) == 200 * 100 + 2.0 * 50 * 50);
  reply = controller.apply("sum", RefArgument{12});
  CHECK(result_of<double>(reply) == Approx(0.5 * 99 * 100 / 2));
  reply = controller.request(map_of(100), cannery::pack_apply_message("square", RefArgument{12}));
  CHECK(result_of<std::vector<double>>(reply)[2] == 1.0);

  controller.send(proto::ReleaseRequest{.refs = {11, 12}});
  reply = controller.apply("sum", RefArgument{12});
  CHECK(failure_of(reply).ename == "cannery.invalid_argument");
  CHECK(failure_of(reply).evalue.find("no cached object with ref 12") != std::string::npos);
}

TEST_CASE("heartbeats keep flowing while a long task runs", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine(3, 50, 200);
  REQUIRE(running.has_id_within(3));
  const std::size_t before = controller.heartbeats();
  auto reply = controller.apply("sleep_ms", std::int64_t{400});
  CHECK(result_of<std::int64_t>(reply) == ::getpid());
  // About 8 in 400 ms; a loaded machine may deliver fewer.
  CHECK(controller.heartbeats() - before >= 3);
}

TEST_CASE("a long task does not make the engine think the controller is gone",
          "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine(3, 50, 3);  // 150 ms without an answered heartbeat means gone
  REQUIRE(running.has_id_within(3));
  // Nothing comes on the work socket for 400 ms; the heart keeps answering.
  auto reply = controller.apply("sleep_ms", std::int64_t{400});
  CHECK(result_of<std::int64_t>(reply) == ::getpid());
  CHECK_FALSE(controller.expect<proto::RegistrationRequest>(300ms));
  const cannery::EngineStats stats = running.engine.stats();
  CHECK(stats.registrations == 1);
  CHECK(stats.controller_losses == 0);
  CHECK(stats.heartbeats_answered >= 3);
  CHECK(stats.heartbeats_answered <= stats.heartbeats_sent);
}

TEST_CASE("an engine registers again after unknown_engine", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine(3);
  REQUIRE(running.has_id_within(3));

  controller.send(proto::UnknownEngine{});
  // At once: well before the next heartbeat would have been due.
  CHECK(controller.expect<proto::RegistrationRequest>(2s));
  CHECK(running.has_id_within(std::nullopt));
  controller.send(controller.registration_reply(4, 50, 200));
  CHECK(running.has_id_within(4));
  CHECK(running.engine.registrations() == 2);
  CHECK(running.engine.stats().controller_losses == 1);
  CHECK(controller.apply("add", 1.0, 1.0).content.engine_id == 4);
}

TEST_CASE("an engine registers again when its heartbeat is answered with unknown_engine",
          "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine(3, 50, 200);
  REQUIRE(running.has_id_within(3));
  REQUIRE(controller.more_heartbeats_within(1, 2s));
  CHECK_FALSE(controller.expect<proto::RegistrationRequest>(100ms));
  // The controller restarted or declared it dead: it no longer knows it.
  controller.heart_answer.store(HeartAnswer::unknown_engine);
  CHECK(controller.expect<proto::RegistrationRequest>(2s));
  CHECK(log.contains("answered a heartbeat with unknown_engine"));
  controller.heart_answer.store(HeartAnswer::heartbeat);
  controller.send(controller.registration_reply(3, 50, 200));
  CHECK(running.has_id_within(3));
  CHECK(running.engine.stats().controller_losses == 1);
}

TEST_CASE("an engine registers again when the controller falls silent", "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine(3, 50, 3);  // 150 ms without an answered heartbeat = gone
  REQUIRE(running.has_id_within(3));
  REQUIRE(controller.more_heartbeats_within(2, 2s));
  CHECK_FALSE(controller.expect<proto::RegistrationRequest>(300ms));
  // The controller answers nothing from now on; the engine keeps asking.
  controller.heart_answer.store(HeartAnswer::nothing);
  CHECK(controller.expect<proto::RegistrationRequest>(3s));
  CHECK(controller.expect<proto::RegistrationRequest>(3s));
  CHECK(running.has_id_within(std::nullopt));
  CHECK(log.contains("no heartbeat answered by the controller at " + controller.heart_endpoint +
                     " for 150 ms"));
  // Until a registration_reply comes.
  controller.heart_answer.store(HeartAnswer::heartbeat);
  controller.send(controller.registration_reply(3, 50, 200));
  CHECK(running.has_id_within(3));
}

TEST_CASE("a registration_reply with values out of range is ignored", "[engine][runtime]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  REQUIRE(controller.expect<proto::RegistrationRequest>());
  // Out of bounds, of the wrong kind, missing, and a heart nobody can reach.
  controller.send(controller.registration_reply(3, 0, 3));
  const proto::RegistrationReply valid = controller.registration_reply(3, 50, 3);
  controller.send_content(proto::RegistrationReply::type, with_field(valid, "engine_id", "three"));
  controller.send_content(proto::RegistrationReply::type,
                          without_field(valid, "heartbeat_endpoint"));
  proto::RegistrationReply udp_heart = valid;
  udp_heart.heartbeat_endpoint = "udp://127.0.0.1:9";
  controller.send(udp_heart);
  // Each is refused and counted; the log shows the first of a kind per interval.
  CHECK(running.refused_within(4));
  CHECK(running.engine.refused_messages() == 4);
  CHECK_FALSE(running.engine.id());
  CHECK(controller.expect<proto::RegistrationRequest>(2s));  // still asking
  CHECK(log.contains("registration_reply: field 'heartbeat_ms' is 0, outside 1..3600000"));
}

TEST_CASE(
    "an engine announces protocol 1.4 and the batches data_plane relay and compression "
    "capabilities",
    "[engine][runtime][protocol]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  const proto::RegistrationRequest request = controller.register_engine().content;
  CHECK(request.protocol == "1.4");
  CHECK(proto::parse_version(request.protocol) == proto::version);
  CHECK(proto::has_capability(request.capabilities, proto::capability::batches));
  // With its data socket, on the address it reaches the controller from.
  CHECK(proto::has_capability(request.capabilities, proto::capability::data_plane));
  REQUIRE(request.data_endpoint);
  CHECK(request.data_endpoint->rfind("tcp://127.0.0.1:", 0) == 0);
  // It takes relayed puts, and says which /dev/shm it sees (the same as
  // this process's: engines of one host share relayed objects through it).
  CHECK(proto::has_capability(request.capabilities, proto::capability::relay));
  CHECK(request.shm_domain == cannery::shm_domain());
  CHECK_FALSE(request.data_curve_key);  // no CURVE here
  // It reads compressed frames (the controller decides whether to send any).
  CHECK(proto::has_capability(request.capabilities, proto::capability::compression));

  // EngineOptions::protocol changes what it announces (for tests of how
  // controllers meet other versions).
  ScriptedController other;
  cannery::EngineOptions options = options_for(other);
  options.protocol = "1.7";
  RunningEngine announcing(std::move(options));
  announcing.start();
  CHECK(other.register_engine().content.protocol == "1.7");
}

TEST_CASE("a registration_reply of another major protocol version is ignored",
          "[engine][runtime][protocol]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  REQUIRE(controller.expect<proto::RegistrationRequest>());

  proto::RegistrationReply newer = controller.registration_reply(3, 50, 200);
  newer.protocol = "2.0";
  controller.send(newer);
  proto::RegistrationReply garbled = newer;
  garbled.protocol = "one";
  controller.send(garbled);
  CHECK(running.refused_within(2));
  CHECK(running.engine.stats().refused_messages == 2);
  CHECK_FALSE(running.engine.id());
  CHECK(running.engine.stats().registrations == 0);
  CHECK(controller.expect<proto::RegistrationRequest>(2s));  // still asking
  CHECK(log.contains("protocol 2.0"));

  // Another minor version of its own major one is served.
  proto::RegistrationReply newer_minor = newer;
  newer_minor.protocol = "1.9";
  controller.send(newer_minor);
  CHECK(running.has_id_within(3));
}

TEST_CASE("an engine refused for its protocol version stops and names both versions",
          "[engine][runtime][protocol]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  REQUIRE(controller.expect<proto::RegistrationRequest>());
  controller.send(proto::RegistrationRefused{
      .protocol = "2.0", .reason = "this controller serves engines of its own major version"});

  const cannery::error e = capture_error([&] { running.finished_within(5s); });
  CHECK(e.code() == cannery::errc::version_mismatch);
  CHECK(e.message().find("2.0") != std::string::npos);
  CHECK(e.message().find(proto::to_string(proto::version)) != std::string::npos);
  CHECK(e.message().find("its own major version") != std::string::npos);
  CHECK(log.contains("refused this engine"));
  CHECK_FALSE(running.engine.id());
}

TEST_CASE("shutdown_request, stop() and SIGTERM end run()", "[engine][runtime]") {
  SECTION("shutdown_request") {
    ScriptedController controller;
    RunningEngine running(options_for(controller));
    running.start();
    controller.register_engine();
    controller.send(proto::ShutdownRequest{});
    CHECK(running.finished_within(3s));
    CHECK_FALSE(running.engine.id());
  }
  SECTION("stop() from another thread") {
    ScriptedController controller;
    RunningEngine running(options_for(controller));
    running.start();
    controller.register_engine();
    running.engine.stop();
    CHECK(running.finished_within(3s));
  }
  SECTION("SIGTERM with stop_on_signals") {
    ScriptedController controller;
    auto options = options_for(controller);
    options.stop_on_signals = true;
    LogLines log;
    options.log_sink = log.sink();
    RunningEngine running(options);
    running.start();
    controller.register_engine();  // the handlers are installed by now
    std::raise(SIGTERM);
    CHECK(running.finished_within(3s));
    CHECK(log.contains("stopping on signal"));
  }
  SECTION("a running task finishes first, and its reply is sent") {
    ScriptedController controller;
    RunningEngine running(options_for(controller));
    running.start();
    controller.register_engine();
    controller.send(apply_task(99), cannery::pack_apply_message("sleep_ms", std::int64_t{200}));
    std::this_thread::sleep_for(50ms);
    running.engine.stop();
    CHECK(running.finished_within(3s));
    auto reply = controller.expect<proto::ApplyReply>(2s);
    REQUIRE(reply);
    CHECK(reply->content.task == 99);
  }
}

TEST_CASE("run() is called once and functions are registered before it", "[engine][runtime]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();
  CHECK_THROWS_AS(running.engine.function("late", [] { return 1; }), cannery::error);
  running.engine.stop();
  REQUIRE(running.finished_within(3s));
  CHECK_THROWS_AS(running.engine.run(), cannery::error);
}

TEST_CASE("an Engine refuses options it cannot serve with", "[engine][runtime]") {
  ScriptedController controller;
  auto code_of = [](cannery::EngineOptions o) {
    return capture_error([&] { cannery::Engine engine(std::move(o)); }).code();
  };
  cannery::EngineOptions none;
  CHECK(code_of(none) == cannery::errc::invalid_argument);

  auto no_endpoint = options_for(controller);
  no_endpoint.connection->endpoints.clear();
  CHECK(code_of(no_endpoint) == cannery::errc::invalid_argument);

  auto no_key = options_for(controller);
  no_key.connection->key.clear();
  CHECK(code_of(no_key) == cannery::errc::invalid_argument);

  auto curve = options_for(controller);
  curve.connection->curve_server_public_key = cannery::generate_curve_keypair().public_key;
  auto e = capture_error([&] { cannery::Engine engine(curve); });
  CHECK(e.message().find("--curve-key") != std::string::npos);

  cannery::EngineOptions missing_file;
  missing_file.connection_file = "/nonexistent/cannery.json";
  CHECK(code_of(missing_file) == cannery::errc::io_error);

  for (int work_nice : {-1, 20}) {
    auto out_of_range = options_for(controller);
    out_of_range.work_nice = work_nice;
    CHECK(code_of(out_of_range) == cannery::errc::invalid_argument);
  }
}
