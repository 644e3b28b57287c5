// Signed messages carrying canned arrays, matrices, strings and scalars
// together, over inproc, ipc and tcp; received arrays view received frames.

#include <Eigen/Core>
#include <cannery/messaging.hpp>  // the umbrella header, checked to stand alone here
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <regex>

#include "socket_pair.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::inside;
using cannery::test::SocketPair;
using cannery::test::Transport;

namespace {

cannery::SessionOptions options_with_key(std::string key = "secret-key") {
  cannery::SessionOptions o;
  o.key = std::move(key);
  return o;
}

bool inside_any(const void* p, const std::vector<cannery::Buffer>& frames) {
  for (const auto& f : frames) {
    if (inside(p, f)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a message of arrays, matrices, strings and scalars round-trips on every transport",
          "[messaging][session]") {
  const Transport transport = GENERATE(Transport::inproc, Transport::ipc, Transport::tcp);
  INFO(cannery::test::transport_name(transport));
  zmq::context_t context;
  SocketPair pair(context, transport, zmq::socket_type::router, zmq::socket_type::dealer);
  cannery::Session client(options_with_key());
  cannery::Session server(options_with_key());

  Eigen::MatrixXd matrix = Eigen::MatrixXd::Random(300, 200);
  std::vector<double> samples = cannery::test::ramp(50000);
  const Eigen::MatrixXd matrix_copy = matrix;
  const std::vector<double> samples_copy = samples;

  cannery::Message request = client.message("apply_request", cannery::Object::Dict{{"n", 4}});
  // Ownership moves into the frames, so they travel without a copy.
  request.buffers = cannery::pack_apply_message("combine", std::move(matrix), std::move(samples),
                                                2.5, std::int64_t{-7}, std::string("label"));
  const auto zero_copy_before = cannery::frame_stats().zero_copy_frames.load();
  client.send(pair.client, request);
  CHECK(cannery::frame_stats().zero_copy_frames.load() - zero_copy_before == 2);

  auto received = server.receive(pair.server, 5s);
  REQUIRE(received);
  CHECK(received->identities.size() == 1);  // the DEALER's routing id
  CHECK(received->header.msg_type == "apply_request");
  CHECK(received->header.session == client.session_id());
  CHECK(received->header.username == "cannery");
  CHECK(received->header.version == "5.3");
  CHECK(std::regex_match(received->header.date,
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
  CHECK_FALSE(received->parent_header);
  CHECK(received->content.at("n").to_int64() == 4);

  auto call = cannery::unpack_apply_message(received->buffers);
  CHECK(call.function() == "combine");
  auto m = call.next_arg<Eigen::Map<const Eigen::MatrixXd>>();
  auto s = call.next_arg<std::span<const double>>();
  CHECK(m == matrix_copy);
  CHECK(std::equal(s.begin(), s.end(), samples_copy.begin(), samples_copy.end()));
  // Proof of zero copy on the receiving side: the views point into frames.
  CHECK(inside_any(m.data(), received->buffers));
  CHECK(inside_any(s.data(), received->buffers));
  CHECK(call.next_arg<double>() == 2.5);
  CHECK(call.next_arg<std::int64_t>() == -7);
  CHECK(call.next_arg<std::string>() == "label");

  // A reply goes back to the requester with the request as its parent.
  cannery::Message reply =
      server.message("apply_reply", cannery::Object::Dict{{"status", "ok"}}, &*received);
  server.send(pair.server, reply);
  auto answer = client.receive(pair.client, 5s);
  REQUIRE(answer);
  REQUIRE(answer->parent_header);
  CHECK(answer->parent_header->msg_id == request.header.msg_id);
  CHECK(answer->content.at("status").to_string() == "ok");
  CHECK(server.refusals().total() == 0);
  CHECK(client.refusals().total() == 0);
}

TEST_CASE("over inproc the receiver views the sender's own memory", "[messaging][session]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::inproc, zmq::socket_type::pull, zmq::socket_type::push);
  cannery::Session session(options_with_key());
  std::vector<double> data = cannery::test::ramp(100000);
  const double* sender_memory = data.data();
  cannery::Message m = session.message("data");
  m.buffers = cannery::serialize_object(std::move(data));
  session.send(pair.client, m);
  auto received = session.receive(pair.server, 5s);
  REQUIRE(received);
  auto view = cannery::deserialize_object<std::span<const double>>(received->buffers).value;
  CHECK(view.data() == sender_memory);
  CHECK(view[99999] == 0.5 * 99999);

  // Sent as an rvalue, the message hands its buffers over instead of sharing
  // them: the memory lives as long as the frames that view it, no longer.
  std::vector<double> more = cannery::test::ramp(1000);
  const double* more_memory = more.data();
  cannery::Message once = session.message("data");
  once.buffers = cannery::serialize_object(std::move(more));
  const std::weak_ptr<const void> more_owner = once.buffers.back().owner();
  session.send(pair.client, std::move(once));
  CHECK(once.buffers.empty());
  CHECK_FALSE(more_owner.expired());  // libzmq holds it
  {
    auto again = session.receive(pair.server, 5s);
    REQUIRE(again);
    CHECK(cannery::deserialize_object<std::span<const double>>(again->buffers).value.data() ==
          more_memory);
  }
  CHECK(more_owner.expired());
}

TEST_CASE("message ids are unique and dates are UTC with microseconds", "[messaging][session]") {
  cannery::Session session(options_with_key());
  auto a = session.message("x");
  auto b = session.message("x");
  CHECK(a.header.msg_id != b.header.msg_id);
  // A random version 4 UUID as 32 hex digits; ids "<session>_<n>".
  CHECK(std::regex_match(session.session_id(),
                         std::regex("[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}")));
  CHECK(cannery::new_session_id() != session.session_id());
  CHECK(a.header.msg_id == session.session_id() + "_0");
  CHECK(b.header.msg_id == session.session_id() + "_1");
  CHECK(a.header.date.back() == 'Z');
  CHECK(a.header.date.size() == 27);
}

TEST_CASE("a session needs a key unless insecure is explicit, and then warns",
          "[messaging][session]") {
  cannery::SessionOptions none;
  CHECK_THROWS_AS(cannery::Session(none), cannery::error);
  std::vector<std::string> lines;
  none.insecure = true;
  none.log_sink = [&](std::string_view line) { lines.emplace_back(line); };
  cannery::Session insecure(none);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("WARNING") != std::string::npos);
  // Unsigned messages pass between insecure sessions.
  auto frames = insecure.serialize(insecure.message("ping"));
  CHECK(insecure.deserialize(frames).header.msg_type == "ping");

  cannery::SessionOptions wrong_scheme = options_with_key();
  wrong_scheme.signature_scheme = "hmac-md5";
  CHECK_THROWS_AS(cannery::Session(wrong_scheme), cannery::error);
}

TEST_CASE("metadata and content keep JSON-like values", "[messaging][session]") {
  cannery::Session session(options_with_key());
  cannery::Message m = session.message(
      "kinds", cannery::Object::Dict{{"int", -3},
                                     {"big", std::uint64_t{1} << 63},
                                     {"float", 1.0},
                                     {"str", "x"},
                                     {"none", nullptr},
                                     {"list", cannery::Object::List{1, "two", 3.5}},
                                     {"nested", cannery::Object::Dict{{"a", true}}}});
  m.metadata = cannery::Object::Dict{{"engine", 3}};
  auto back = session.deserialize(session.serialize(m));
  CHECK(back.content.at("int").to_int64() == -3);
  CHECK(back.content.at("big").as<std::uint64_t>() == (std::uint64_t{1} << 63));
  CHECK(back.content.at("float").kind() == cannery::Object::Kind::floating);
  CHECK(back.content.at("list").at(1).to_string() == "two");
  CHECK(back.content.at("nested").at("a").to_bool());
  CHECK(back.content.at("none").is_null());
  CHECK(back.metadata.at("engine").to_int64() == 3);
  // Arrays do not belong in the dicts: they travel as canned buffers.
  m.content =
      cannery::Object::Dict{{"array", cannery::NDArray::from_vector(std::vector<double>{1})}};
  CHECK_THROWS_AS(session.serialize(m), cannery::error);
}

TEST_CASE("serializing a message it no longer needs moves its buffers into the frames",
          "[messaging][session]") {
  cannery::Session session(options_with_key());
  cannery::Message m = session.message("apply_request");
  m.buffers = cannery::pack_apply_message("f", std::vector<double>(1000, 2.0), 7);
  const cannery::Message kept = m;  // what serialize(const&) would share
  const std::vector<cannery::Buffer> shared = session.serialize(kept);
  const std::vector<cannery::Buffer> moved = session.serialize(std::move(m));
  REQUIRE(moved.size() == shared.size());
  const std::size_t first_buffer = moved.size() - kept.buffers.size();
  for (std::size_t i = 0; i < kept.buffers.size(); ++i) {
    CHECK(moved[first_buffer + i].data() == kept.buffers[i].data());
    CHECK(moved[first_buffer + i].size() == kept.buffers[i].size());
    CHECK(m.buffers[i].owner() == nullptr);  // moved out, not shared
  }
  // The envelope is the same either way, down to the signature.
  for (std::size_t i = 0; i < first_buffer; ++i)
    CHECK(moved[i].as_string_view() == shared[i].as_string_view());
  auto back = session.deserialize(moved);
  auto apply = cannery::unpack_apply_message(back.buffers);
  CHECK(apply.next_arg<std::vector<double>>() == std::vector<double>(1000, 2.0));
  CHECK(apply.next_arg<int>() == 7);
}
