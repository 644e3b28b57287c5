// Buffers become zmq messages without copies above the threshold, owners are
// released by libzmq's free callback, received frames are viewed in place.

#include <algorithm>
#include <cannery/canning.hpp>
#include <cannery/messaging/frames.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "socket_pair.hpp"
#include "test_support.hpp"

using cannery::test::SocketPair;
using cannery::test::Transport;

TEST_CASE("large owned buffers are handed to libzmq, small ones and lone borrowed ones copied",
          "[messaging][frames]") {
  cannery::FrameOptions options;
  auto big = std::make_shared<std::vector<char>>(options.copy_threshold + 1, 'x');
  std::weak_ptr<std::vector<char>> watch = big;
  cannery::Buffer owned(big->data(), big->size(), big);
  big.reset();
  {
    zmq::message_t m = cannery::to_zmq_message(owned, options);
    CHECK(m.data() == owned.data());
    owned = cannery::Buffer();
    CHECK_FALSE(watch.expired());  // libzmq still holds the bytes
  }
  CHECK(watch.expired());  // the free callback released the owner

  // A message on its own cannot wait for libzmq to let go (send_frames can).
  std::vector<char> local(options.copy_threshold + 1, 'y');
  zmq::message_t borrowed =
      cannery::to_zmq_message(cannery::Buffer::borrow(local.data(), local.size()));
  CHECK(borrowed.data() != static_cast<void*>(local.data()));

  auto small = cannery::Buffer::copy_of("tiny");
  zmq::message_t copied = cannery::to_zmq_message(small);
  CHECK(copied.data() != static_cast<const void*>(small.data()));
  CHECK(copied.to_string_view() == "tiny");
}

TEST_CASE("received frames are Buffers that own their zmq message", "[messaging][frames]") {
  zmq::message_t message(std::string(100000, 'z'));
  const void* where = message.data();
  cannery::Buffer b = cannery::from_zmq_message(std::move(message));
  CHECK(static_cast<const void*>(b.data()) == where);
  CHECK(b.size() == 100000);
  CHECK(reinterpret_cast<std::uintptr_t>(b.data()) % 8 == 0);
}

TEST_CASE("frames in several parts go out as one message, in order", "[messaging][frames]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::inproc, zmq::socket_type::pull, zmq::socket_type::push);
  const std::vector<cannery::Buffer> first{cannery::Buffer::copy_of("a", 1)};
  const std::vector<cannery::Buffer> second{cannery::Buffer::copy_of("bc", 2),
                                            cannery::Buffer::copy_of("def", 3)};
  const std::span<const cannery::Buffer> parts[] = {{}, first, {}, second, {}};
  REQUIRE(cannery::send_frames(pair.client, parts));
  auto received = cannery::receive_frames(pair.server);
  REQUIRE(received);
  REQUIRE(received->size() == 3);
  CHECK((*received)[0].as_string_view() == "a");
  CHECK((*received)[1].as_string_view() == "bc");
  CHECK((*received)[2].as_string_view() == "def");

  const std::span<const cannery::Buffer> nothing[] = {{}, {}};
  auto e = cannery::test::capture_error([&] { cannery::send_frames(pair.client, nothing); });
  CHECK(e.code() == cannery::errc::invalid_argument);
}

TEST_CASE("misaligned received frames are copied to aligned memory, the rest kept",
          "[messaging][frames]") {
  std::string text(256, '\0');
  for (std::size_t i = 0; i < text.size(); ++i)
    text[i] = static_cast<char>(i);
  const cannery::Buffer whole = cannery::Buffer::copy_of(text);  // aligned allocation
  std::vector<cannery::Buffer> frames{whole.slice(1, 7), whole.slice(8, 40), whole.slice(51, 100),
                                      whole.slice(160, 0), whole.slice(163, 93)};
  const std::vector<cannery::Buffer> before = frames;  // same views, for the contents
  const auto realigned_before = cannery::frame_stats().realigned_frames.load();
  std::vector<cannery::Buffer> after = cannery::aligned_for_views(std::move(frames));
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    CAPTURE(i);
    CHECK(reinterpret_cast<std::uintptr_t>(after[i].data()) % 8 == 0);
    CHECK(after[i] == before[i]);
  }
  CHECK(after[1].data() == before[1].data());  // aligned already: not copied
  CHECK(after[3].data() == before[3].data());
  CHECK(cannery::frame_stats().realigned_frames.load() - realigned_before == 3);
}

TEST_CASE("a message with too many frames is drained and refused", "[messaging][frames]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::inproc, zmq::socket_type::pull, zmq::socket_type::push);
  cannery::FrameOptions options;
  options.max_frames = 4;
  std::vector<cannery::Buffer> many(10, cannery::Buffer::copy_of("f"));
  REQUIRE(cannery::send_frames(pair.client, many));
  std::vector<cannery::Buffer> ok(2, cannery::Buffer::copy_of("g"));
  REQUIRE(cannery::send_frames(pair.client, ok));
  auto e = cannery::test::capture_error([&] { cannery::receive_frames(pair.server, options); });
  CHECK(e.code() == cannery::errc::limit_exceeded);
  auto next = cannery::receive_frames(pair.server, options);
  REQUIRE(next);
  CHECK(next->size() == 2);
}

TEST_CASE("a ROUTER_MANDATORY socket reports an unknown peer instead of dropping",
          "[messaging][frames]") {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  cannery::make_router_mandatory(router);
  router.bind("inproc://mandatory");
  std::vector<cannery::Buffer> frames{cannery::Buffer::copy_of("nobody"),
                                      cannery::Buffer::copy_of("hi")};
  auto e = cannery::test::capture_error([&] { cannery::send_frames(router, frames); });
  CHECK(e.code() == cannery::errc::io_error);
}

TEST_CASE("ZMQ_MAXMSGSIZE refuses an oversized frame at the socket", "[messaging][frames]") {
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  zmq::socket_t push(context, zmq::socket_type::push);
  for (zmq::socket_t* s : {&pull, &push})
    s->set(zmq::sockopt::linger, 0);
  cannery::limit_frame_size(pull, 1024);  // applies to connections accepted afterwards
  pull.set(zmq::sockopt::rcvtimeo, 300);
  pull.bind("tcp://127.0.0.1:*");
  push.connect(pull.get(zmq::sockopt::last_endpoint));
  std::vector<cannery::Buffer> big{cannery::Buffer::take(std::vector<char>(4096, 'b'))};
  REQUIRE(cannery::send_frames(push, big));
  CHECK_FALSE(cannery::receive_frames(pull));  // libzmq dropped the connection instead
  std::vector<cannery::Buffer> small{cannery::Buffer::copy_of("fits")};
  // The peer reconnects by itself and a frame within the limit arrives.
  pull.set(zmq::sockopt::rcvtimeo, 5000);
  REQUIRE(cannery::send_frames(push, small));
  auto received = cannery::receive_frames(pull);
  REQUIRE(received);
  CHECK(received->front().as_string_view() == "fits");
}

TEST_CASE("a blocking send lends large borrowed frames and returns once libzmq let go of them",
          "[messaging][frames]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::tcp, zmq::socket_type::pull, zmq::socket_type::push);
  cannery::FrameStats& stats = cannery::frame_stats();
  std::vector<char> local(std::size_t{4} << 20, 'y');
  const std::vector<cannery::Buffer> frames{cannery::Buffer::borrow(local.data(), local.size())};

  const auto lent_before = stats.zero_copy_frames.load();
  const auto copied_before = stats.copied_bytes.load();
  REQUIRE(cannery::send_frames(pair.client, frames));
  CHECK(stats.zero_copy_frames.load() - lent_before == 1);
  CHECK(stats.copied_bytes.load() == copied_before);
  // libzmq read the bytes before the send returned: what the caller does to
  // its memory now does not reach the message.
  std::fill(local.begin(), local.end(), 'z');
  auto received = cannery::receive_frames(pair.server);
  REQUIRE(received);
  REQUIRE(received->size() == 1);
  const cannery::Buffer& got = received->front();
  CHECK(std::all_of(got.data(), got.data() + got.size(),
                    [](std::byte b) { return b == std::byte{'y'}; }));

  // A non-blocking send cannot wait, and a blocking one may be told not to
  // lend: both copy.
  cannery::FrameOptions no_lending;
  no_lending.lend_borrowed = false;
  const auto before = stats.copied_bytes.load();
  REQUIRE(cannery::send_frames(pair.client, frames, {}, zmq::send_flags::dontwait));
  REQUIRE(cannery::send_frames(pair.client, frames, no_lending));
  CHECK(stats.copied_bytes.load() - before == 2 * local.size());
  REQUIRE(cannery::receive_frames(pair.server));
  REQUIRE(cannery::receive_frames(pair.server));
}
