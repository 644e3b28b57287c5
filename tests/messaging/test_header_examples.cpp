// The examples in the messaging headers' comments (dispatch.hpp, codec.hpp)
// and docs/messaging.md's Session example, run as written there; each test
// also checks that the text it runs is the text of the example.

#include <Eigen/Core>
#include <array>
#include <cannery/canning.hpp>
#include <cannery/messaging/codec.hpp>
#include <cannery/messaging/connection_file.hpp>
#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>
#include <zmq.hpp>

#include "socket_pair.hpp"
#include "source_examples.hpp"

namespace codec_example {

using cannery::protocol::field;

// codec.hpp's examples, as written there.
struct PullRequest {
  static constexpr std::string_view type = "pull_request";
  std::uint64_t task = 0;
  std::string name;
  static constexpr auto fields() {
    return std::tuple{field("task", &PullRequest::task), field("name", &PullRequest::name)};
  }
};

enum class Status { ok, error };
constexpr std::array<std::string_view, 2> names_of(Status) {
  return {"ok", "error"};
}

struct Outcome {
  static constexpr std::string_view type = "outcome";
  Status status = Status::ok;
  static constexpr auto fields() { return std::tuple{field("status", &Outcome::status)}; }
};

}  // namespace codec_example

namespace {

using namespace cannery;
using cannery::test::contains_lines;
using cannery::test::header_comment_blocks;
using cannery::test::markdown_cpp_blocks;
using cannery::test::source_file;

const char* const this_file = "tests/messaging/test_header_examples.cpp";

// A content as bytes, to compare two (Objects have no ==).
std::string packed(const Object::Dict& content) {
  return std::string(pack_plain(Object(content)).as_string_view());
}

SessionOptions keyed(const std::string& key) {
  SessionOptions options;
  options.key = key;
  return options;
}

}  // namespace

TEST_CASE("dispatch.hpp: the MessageTable example hands each message to its handler",
          "[messaging][docs]") {
  Session session(keyed(generate_key()));
  int heartbeats = 0;
  std::vector<std::string> served;
  std::vector<std::string> refused;
  auto answer_heartbeat = [&] { ++heartbeats; };
  auto serve = [&](std::uint64_t task, const std::string& name) {
    served.push_back(std::to_string(task) + ":" + name);
  };
  auto refuse = [&](const Message& m) { refused.push_back(m.header.msg_type); };
  auto handle = [&](const Message& message) {
    using Inbox = protocol::MessageTable<protocol::Heartbeat, protocol::PullRequest>;
    const bool known = Inbox::dispatch(
        message.header.msg_type, message.content,
        protocol::overloaded{[&](protocol::Heartbeat) { answer_heartbeat(); },
                             [&](protocol::PullRequest pull) { serve(pull.task, pull.name); }});
    if (!known) refuse(message);  // a type not taken here
  };

  handle(protocol::make_message(session, protocol::Heartbeat{}));
  handle(protocol::make_message(session, protocol::PullRequest{7, "x"}));
  handle(protocol::make_message(session, protocol::ShutdownRequest{}));
  CHECK(heartbeats == 1);
  CHECK(served == std::vector<std::string>{"7:x"});
  CHECK(refused == std::vector<std::string>{"shutdown_request"});

  // A content that does not fit its type is refused before any handler runs.
  const Message no_name = session.message("pull_request", Object::Dict{{"task", 8}});
  CHECK(test::capture_error([&] { handle(no_name); }).code() == errc::malformed_message);
  CHECK(served.size() == 1);

  const auto blocks = header_comment_blocks("messaging/include/cannery/messaging/dispatch.hpp");
  REQUIRE(blocks.size() == 1);
  CHECK(contains_lines(source_file(this_file), blocks[0]));
}

TEST_CASE("codec.hpp: the example struct and enum are encoded as the comment says",
          "[messaging][docs]") {
  using codec_example::Outcome;
  using codec_example::PullRequest;
  // The example is messages.hpp's own PullRequest: the same content both ways.
  const Object::Dict content = protocol::encode(PullRequest{7, "x"});
  CHECK(packed(content) == packed(protocol::encode(protocol::PullRequest{7, "x"})));
  const auto decoded = protocol::decode<PullRequest>(Object(content));
  CHECK(decoded.task == 7);
  CHECK(decoded.name == "x");
  const error missing = test::capture_error([] {
    protocol::decode<PullRequest>(Object(Object::Dict{{"task", 7}}));
  });
  CHECK(missing.code() == errc::malformed_message);
  CHECK_THAT(missing.message(), Catch::Contains("pull_request: field 'name' is missing"));

  // An enum that names its values travels as those names.
  CHECK(packed(protocol::encode(Outcome{codec_example::Status::error})) ==
        packed(Object::Dict{{"status", "error"}}));
  CHECK(protocol::decode<Outcome>(Object(Object::Dict{{"status", "ok"}})).status ==
        codec_example::Status::ok);
  CHECK(test::capture_error([] {
          protocol::decode<Outcome>(Object(Object::Dict{{"status", "maybe"}}));
        }).code() == errc::malformed_message);

  // The refusal the comment quotes.
  protocol::RegistrationReply reply;
  reply.engine_id = 1;
  reply.heartbeat_ms = 500;
  reply.allowed_misses = 4;
  reply.heartbeat_endpoint = "tcp://127.0.0.1:40125";
  reply.protocol = "1.0";
  Object::Dict zero = protocol::encode(reply);
  zero.insert_or_assign("heartbeat_ms", Object(0));
  CHECK_THAT(test::capture_error([&] {
               protocol::decode<protocol::RegistrationReply>(Object(zero));
             }).message(),
             Catch::Contains("registration_reply: field 'heartbeat_ms' is 0, outside 1..3600000"));

  const auto blocks = header_comment_blocks("messaging/include/cannery/messaging/codec.hpp");
  REQUIRE(blocks.size() == 2);
  const std::string source = source_file(this_file);
  CHECK(contains_lines(source, blocks[0]));
  CHECK(contains_lines(source, blocks[1]));
}

TEST_CASE("docs/messaging.md: the Session example sends a typed request and reads the reply",
          "[messaging][docs]") {
  zmq::context_t context;
  test::SocketPair pair(context, test::Transport::tcp, zmq::socket_type::router,
                        zmq::socket_type::dealer);
  ConnectionInfo info;
  info.key = generate_key();
  // The engine's side: runs trace_scaled on what arrives and answers. A
  // failure here leaves the example without a reply, which the test sees.
  std::thread engine([&] {
    try {
      Session engine_session(keyed(info.key));
      std::optional<Message> request = engine_session.receive(pair.server, std::chrono::seconds(5));
      if (!request) return;
      const auto apply = protocol::decode<protocol::ApplyRequest>(*request);
      ApplyMessage call(request->buffers);
      const auto m = call.next_arg<Eigen::MatrixXd>();
      const double scale = call.next_arg<double>();
      protocol::ApplyReply answer;
      answer.task = apply.task;
      answer.engine_id = 0;
      Message reply = protocol::make_message(engine_session, answer, &*request,
                                             serialize_object(m.trace() * scale));
      reply.identities = request->identities;
      engine_session.send(pair.server, reply);
    } catch (const std::exception&) {
    }
  });
  zmq::socket_t& socket = pair.client;
  Eigen::MatrixXd matrix = Eigen::MatrixXd::Identity(3, 3);

  cannery::SessionOptions options;
  options.key = info.key;  // from the connection file
  cannery::Session session(options);

  cannery::protocol::ApplyRequest apply;
  apply.task = 1;
  cannery::Message request = cannery::protocol::make_message(session, apply);
  request.buffers = cannery::pack_apply_message("trace_scaled", std::move(matrix), 2.0);
  session.send(socket, request);

  double trace = 0;
  if (auto reply = session.receive(socket, std::chrono::seconds(5))) {
    auto answer = cannery::protocol::decode<cannery::protocol::ApplyReply>(*reply);
    if (answer.status == cannery::protocol::Status::ok)
      trace = cannery::deserialize_object<double>(reply->buffers).value;
  }

  engine.join();
  CHECK(trace == 6.0);
  const auto blocks = markdown_cpp_blocks("docs/messaging.md");
  REQUIRE(blocks.size() >= 2);
  CHECK(contains_lines(source_file(this_file), blocks[1]));
}
