// Received frames are owned per object: what a receiver keeps of one object
// of a message (a result out of a batch_reply, a pushed value) keeps its own
// frames alive, not the other objects' large frames.

#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include <cannery/canning.hpp>
#include <cannery/messaging/batch.hpp>
#include <cannery/messaging/frames.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/session.hpp>

#include "socket_pair.hpp"

using namespace cannery;
using namespace cannery::test;

namespace {

std::weak_ptr<const void> owner_of(const Buffer& frame) {
  return frame.owner();
}

}  // namespace

TEST_CASE("a large received frame has an owner of its own and small frames share one",
          "[messaging][frames]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::tcp, zmq::socket_type::pull, zmq::socket_type::push);
  const std::size_t large = FrameOptions{}.copy_threshold + 1;
  const std::vector<Buffer> sent{
      Buffer::copy_of("a", 1), Buffer::take(std::vector<char>(large, 'x')),
      Buffer::take(std::vector<char>(large, 'y')), Buffer::copy_of("b", 1)};
  REQUIRE(send_frames(pair.client, sent));
  auto received = receive_frames(pair.server);
  REQUIRE(received);
  REQUIRE(received->size() == 4);
  std::vector<Buffer>& frames = *received;
  // The two small frames: one owner (one allocation for the message).
  CHECK_FALSE(frames[0].owner().owner_before(frames[3].owner()));
  CHECK_FALSE(frames[3].owner().owner_before(frames[0].owner()));
  const auto first_large = owner_of(frames[1]);
  const auto second_large = owner_of(frames[2]);
  const Buffer kept_small = frames[0];
  const Buffer kept_large = frames[2];
  frames.clear();
  CHECK(first_large.expired());  // nothing kept it: freed
  CHECK_FALSE(second_large.expired());
  CHECK(kept_large.as_string_view().front() == 'y');
  CHECK(kept_small.as_string_view() == "a");
}

TEST_CASE("the memory of a batch_reply is freed when its other results are dropped",
          "[messaging][frames][batch]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::tcp, zmq::socket_type::pull, zmq::socket_type::push);
  SessionOptions options;
  options.key = "owners-test-key";
  Session sender(options);
  Session receiver(options);
  // Two results of 4 MiB each in one batch_reply, as an engine sends them.
  BatchBuilder batch;
  for (std::uint64_t task : {1, 2}) {
    protocol::ApplyReply reply;
    reply.task = task;
    batch.add(reply, serialize_object(std::vector<double>(std::size_t{1} << 19, double(task))));
  }
  Message message = sender.message(protocol::batch_reply,
                                   Object(batch.take_content(protocol::batch_replies_field)));
  message.buffers = batch.take_buffers();
  sender.send(pair.client, std::move(message));

  auto got = receiver.receive(pair.server, std::chrono::seconds(10));
  REQUIRE(got);
  auto parts = split_batch(got->content, protocol::batch_replies_field, got->buffers);
  REQUIRE(parts.size() == 2);
  // The caller keeps the first result as a view; the second is dropped.
  std::vector<Buffer> first(parts[0].buffers.begin(), parts[0].buffers.end());
  std::weak_ptr<const void> second_memory;
  for (const Buffer& frame : parts[1].buffers) {
    if (frame.size() > FrameOptions{}.copy_threshold) second_memory = frame.owner();
  }
  REQUIRE_FALSE(second_memory.expired());
  const auto kept = deserialize_object<std::span<const double>>(first).value;
  parts.clear();
  got.reset();
  CHECK(second_memory.expired());
  CHECK(kept.size() == std::size_t{1} << 19);
  CHECK(kept[0] == 1.0);
}
