// An ObjectServer (the data socket of engines and the controller's relay
// socket) against hostile and early requests: pieces are served only within
// one frame of what it holds; requests for nothing, for too much or across
// frames are refused or answered `missing`; bytes still arriving are waited
// for and then `pending`, by so many requests at once; shared memory only
// for the same /dev/shm.

#include <cannery/messaging/arrival.hpp>
#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/object_server.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "proc_threads.hpp"

using namespace std::chrono_literals;
namespace proto = cannery::protocol;
using cannery::Buffer;

namespace {

const std::string object_server_key = "object-server-test-key";

cannery::SessionOptions session_options() {
  cannery::SessionOptions o;
  o.key = object_server_key;
  o.log_sink = [](std::string_view) {};
  return o;
}

// Serves ref 1 (a 3-byte frame and a 100-byte frame, whole) and ref 2 (an
// Arrival of two 64-byte frames that the test fills).
struct Served {
  explicit Served(std::size_t max_waiting = 4096, std::chrono::milliseconds pending_after = 50ms) {
    std::vector<std::byte> header(3, std::byte{'h'});
    std::vector<std::byte> body(100);
    for (std::size_t i = 0; i < body.size(); ++i)
      body[i] = static_cast<std::byte>(i);
    whole = std::make_shared<const std::vector<Buffer>>(
        std::vector<Buffer>{Buffer::take(std::move(header)), Buffer::take(std::move(body))});
    const std::vector<std::uint64_t> sizes{64, 64};
    arriving = std::make_shared<cannery::Arrival>(sizes, false);
    server = std::make_unique<cannery::detail::ObjectServer>(
        context, cannery::detail::ObjectServer::Setup{
                     .session = session_options(),
                     .bind_endpoint = "tcp://127.0.0.1:*",
                     .max_frame_bytes = 0,
                     .thread_name = "test-objects",
                     .peer_kind = "test",
                     .lookup =
                         [this](std::uint64_t ref) {
                           if (ref == 1) return cannery::detail::Holding{whole, nullptr};
                           if (ref == 2) return cannery::detail::Holding{nullptr, arriving};
                           return cannery::detail::Holding{};
                         },
                     .served = {},
                     .shm_domain = std::string("this-host"),
                     .pending_after = pending_after,
                     .before_bind = {},
                     .max_waiting = max_waiting});
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(server->endpoint());
  }

  std::optional<cannery::Message> ask(const proto::ChunkRequest& request,
                                      std::chrono::milliseconds wait = 2s) {
    session.send(dealer, proto::make_message(session, request));
    return session.receive(dealer, wait);
  }

  zmq::context_t context;
  std::shared_ptr<const std::vector<Buffer>> whole;
  std::shared_ptr<cannery::Arrival> arriving;
  std::unique_ptr<cannery::detail::ObjectServer> server;
  zmq::socket_t dealer{context, zmq::socket_type::dealer};
  cannery::Session session{session_options()};
};

proto::ChunkState state_of(const cannery::Message& reply) {
  return proto::decode<proto::ChunkReply>(reply).state;
}

}  // namespace

TEST_CASE("an object server sends exactly the piece asked for within one frame",
          "[messaging][dataplane]") {
  Served s;
  // Bytes 3..102 are the second frame: ask for 10 of them from its 5th.
  auto reply = s.ask({1, 3 + 4, 10, std::nullopt});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::data);
  CHECK(proto::decode<proto::ChunkReply>(*reply).offset == 7);
  REQUIRE(reply->buffers.size() == 1);
  REQUIRE(reply->buffers[0].size() == 10);
  CHECK(std::to_integer<int>(reply->buffers[0].data()[0]) == 4);
  CHECK(std::to_integer<int>(reply->buffers[0].data()[9]) == 13);

  // Across the two frames, past the end, an unknown ref: missing.
  for (const proto::ChunkRequest& outside :
       {proto::ChunkRequest{1, 1, 10, std::nullopt}, proto::ChunkRequest{1, 103, 1, std::nullopt},
        proto::ChunkRequest{1, ~std::uint64_t{0} - 2, 8, std::nullopt},
        proto::ChunkRequest{7, 0, 1, std::nullopt}}) {
    reply = s.ask(outside);
    REQUIRE(reply);
    CHECK(state_of(*reply) == proto::ChunkState::missing);
    CHECK(reply->buffers.empty());
  }
}

TEST_CASE("an object server refuses pieces of no bytes or of more than 64 MiB",
          "[messaging][dataplane]") {
  Served s;
  CHECK_FALSE(s.ask({1, 0, 0, std::nullopt}, 300ms));
  CHECK_FALSE(s.ask({1, 0, (std::uint64_t{64} << 20) + 1, std::nullopt}, 300ms));
  // Through shared memory the whole object only: offset and length 0.
  CHECK_FALSE(s.ask({1, 3, 0, std::string("this-host")}, 300ms));
  CHECK(s.server->refused() == 3);
  // Still serving.
  auto reply = s.ask({1, 0, 3, std::nullopt});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::data);
}

TEST_CASE("an object server waits for bytes still arriving and says pending meanwhile",
          "[messaging][dataplane]") {
  Served s;
  auto reply = s.ask({2, 64, 16, std::nullopt});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::pending);
  CHECK(reply->buffers.empty());

  // The first frame and part of the second arrive: the piece is served.
  std::vector<std::byte> bytes(80, std::byte{7});
  s.arriving->write(0, {bytes.data(), 64});
  s.arriving->write(64, {bytes.data(), 16});
  s.arriving->publish(80);
  reply = s.ask({2, 64, 16, std::nullopt});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::data);
  REQUIRE(reply->buffers.size() == 1);
  CHECK(reply->buffers[0].size() == 16);

  // A piece written across the two frames is refused by the Arrival itself.
  CHECK_THROWS_AS(s.arriving->write(60, {bytes.data(), 8}), cannery::error);
}

TEST_CASE("an object server keeps so many requests waiting and answers the rest pending at once",
          "[messaging][dataplane]") {
  // Four may wait; pending_after is far longer than the test.
  Served s(4, 60s);
  std::vector<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    cannery::Message request =
        proto::make_message(s.session, proto::ChunkRequest{2, 0, 16, std::nullopt});
    sent.push_back(request.header.msg_id);
    s.session.send(s.dealer, std::move(request));
  }
  // The six beyond the bound: pending at once, in the order asked.
  for (std::size_t i = 4; i < sent.size(); ++i) {
    auto reply = s.session.receive(s.dealer, 10s);
    REQUIRE(reply);
    CHECK(state_of(*reply) == proto::ChunkState::pending);
    REQUIRE(reply->parent_header);
    CHECK(reply->parent_header->msg_id == sent[i]);
  }
  // The four that wait are served when their bytes arrive.
  std::vector<std::byte> bytes(16, std::byte{7});
  s.arriving->write(0, bytes);
  s.arriving->publish(16);
  for (std::size_t i = 0; i < 4; ++i) {
    auto reply = s.session.receive(s.dealer, 10s);
    REQUIRE(reply);
    CHECK(state_of(*reply) == proto::ChunkState::data);
    REQUIRE(reply->parent_header);
    CHECK(reply->parent_header->msg_id == sent[i]);
  }
}

TEST_CASE("an object server hands over shared memory only to its own /dev/shm",
          "[messaging][dataplane]") {
  Served s;
  // Whole and on the heap: there is no segment to name.
  auto reply = s.ask({1, 0, 0, std::string("this-host")});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::not_shared);
  reply = s.ask({1, 0, 0, std::string("another-host")});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::not_shared);
  // Not held at all.
  reply = s.ask({9, 0, 0, std::string("this-host")});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::missing);
}

TEST_CASE("an idle object server's thread sleeps until a request comes", "[messaging][dataplane]") {
  Served s;
  REQUIRE(s.ask({1, 0, 3, std::nullopt}));  // its thread is serving
  const long before = cannery::test::sleeps_of_threads_named("test-objects");
  std::this_thread::sleep_for(600ms);
  // Waits of 100 ms, as before, woke it about six times in as long: with
  // hundreds of idle engines on a host, that was CPU taken from the busy ones.
  CHECK(cannery::test::sleeps_of_threads_named("test-objects") - before <= 1);
  auto reply = s.ask({1, 0, 3, std::nullopt});
  REQUIRE(reply);
  CHECK(state_of(*reply) == proto::ChunkState::data);
}
