// Tampered, unsigned, replayed, truncated and padded messages are refused,
// counted per reason, and the next valid message is served.

#include <cannery/canning.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>

#include "socket_pair.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::errc;
using cannery::test::SocketPair;
using cannery::test::Transport;

namespace {

cannery::SessionOptions keyed(std::vector<std::string>* log = nullptr) {
  cannery::SessionOptions o;
  o.key = "tamper-test-key";
  if (log != nullptr) o.log_sink = [log](std::string_view line) { log->emplace_back(line); };
  return o;
}

// A valid message as frames: [delimiter, signature, 4 dicts, 2 buffers].
std::vector<cannery::Buffer> valid_frames(cannery::Session& sender) {
  cannery::Message m = sender.message("work", cannery::Object::Dict{{"x", 1}});
  m.buffers = cannery::serialize_object(std::vector<double>(500, 1.0));
  return sender.serialize(m);
}

cannery::Buffer flipped(const cannery::Buffer& frame, std::size_t at) {
  std::vector<std::byte> bytes(frame.data(), frame.data() + frame.size());
  bytes.at(at) ^= std::byte{0x01};
  return cannery::Buffer::take(std::move(bytes));
}

}  // namespace

TEST_CASE("every kind of tampering is refused with its own reason", "[messaging][tamper]") {
  cannery::Session sender(keyed());
  cannery::Session receiver(keyed());

  SECTION("a flipped byte in each signed frame") {
    for (std::size_t frame = 2; frame < 6; ++frame) {
      auto frames = valid_frames(sender);
      frames[frame] = flipped(frames[frame], frames[frame].size() / 2);
      auto e = cannery::test::capture_error([&] { receiver.deserialize(frames); });
      CHECK(e.code() == errc::signature_mismatch);
    }
  }
  SECTION("a flipped byte in the signature") {
    auto frames = valid_frames(sender);
    frames[1] = flipped(frames[1], 10);
    CHECK(cannery::test::capture_error([&] { receiver.deserialize(frames); }).code() ==
          errc::signature_mismatch);
  }
  SECTION("a dropped signature") {
    auto frames = valid_frames(sender);
    frames[1] = cannery::Buffer();
    CHECK(cannery::test::capture_error([&] { receiver.deserialize(frames); }).code() ==
          errc::signature_missing);
  }
  SECTION("another key") {
    cannery::SessionOptions other = keyed();
    other.key = "another-key";
    cannery::Session stranger(other);
    auto frames = valid_frames(stranger);
    CHECK(cannery::test::capture_error([&] { receiver.deserialize(frames); }).code() ==
          errc::signature_mismatch);
  }
  SECTION("a replay") {
    auto frames = valid_frames(sender);
    CHECK_NOTHROW(receiver.deserialize(frames));
    CHECK(cannery::test::capture_error([&] { receiver.deserialize(frames); }).code() ==
          errc::replayed_message);
  }
  SECTION("truncated frames") {
    auto frames = valid_frames(sender);
    for (std::size_t keep = 0; keep < 6; ++keep) {
      std::vector<cannery::Buffer> cut(frames.begin(), frames.begin() + static_cast<long>(keep));
      CHECK(cannery::test::capture_error([&] { receiver.deserialize(cut); }).code() ==
            errc::malformed_message);
    }
  }
  SECTION("a truncated buffer frame is caught by buffer digests") {
    cannery::SessionOptions o = keyed();
    o.buffer_digests = true;
    cannery::Session digest_sender(o);
    cannery::Session digest_receiver(o);
    auto frames = valid_frames(digest_sender);
    frames.back() = frames.back().slice(0, frames.back().size() - 8);
    CHECK(cannery::test::capture_error([&] { digest_receiver.deserialize(frames); }).code() ==
          errc::digest_mismatch);
    // A message without digests is refused by a session that requires them.
    auto plain = valid_frames(sender);
    CHECK(cannery::test::capture_error([&] { digest_receiver.deserialize(plain); }).code() ==
          errc::digest_mismatch);
    // And an intact one passes.
    CHECK_NOTHROW(digest_receiver.deserialize(valid_frames(digest_sender)));
  }
  SECTION("an added buffer frame is caught by buffer digests") {
    cannery::SessionOptions o = keyed();
    o.buffer_digests = true;
    cannery::Session digest_sender(o);
    cannery::Session digest_receiver(o);
    auto frames = valid_frames(digest_sender);
    frames.push_back(cannery::Buffer::copy_of("extra"));
    CHECK(cannery::test::capture_error([&] { digest_receiver.deserialize(frames); }).code() ==
          errc::digest_mismatch);
  }
  SECTION("a dict frame that is not a dict, with a valid signature") {
    cannery::Message m = sender.message("x");
    auto frames = sender.serialize(m);
    frames[5] = cannery::pack_plain(cannery::Object::List{1, 2});  // content
    cannery::Signer signer("tamper-test-key");
    frames[1] = cannery::Buffer::copy_of(
        signer.sign(std::span<const cannery::Buffer>(frames).subspan(2, 4)));
    CHECK(cannery::test::capture_error([&] { receiver.deserialize(frames); }).code() ==
          errc::malformed_message);
  }
  SECTION("a signed metadata or content frame that is not msgpack is named in the error") {
    const std::pair<std::size_t, const char*> dicts[] = {{4, "metadata frame: "},
                                                         {5, "content frame: "}};
    for (const auto& [index, name] : dicts) {
      // Not msgpack at all, and an array cut short.
      for (const char* bytes : {"\xc1", "\x92\x01"}) {
        auto frames = sender.serialize(sender.message("x"));
        frames[index] = cannery::Buffer::copy_of(bytes);
        cannery::Signer signer("tamper-test-key");
        frames[1] = cannery::Buffer::copy_of(
            signer.sign(std::span<const cannery::Buffer>(frames).subspan(2, 4)));
        const cannery::error e =
            cannery::test::capture_error([&] { receiver.deserialize(frames); });
        CHECK(e.code() == errc::malformed_message);
        CHECK_THAT(e.message(), Catch::StartsWith(name) && !Catch::Contains("header"));
      }
    }
  }
}

TEST_CASE("refused messages are counted and logged, and the socket keeps serving",
          "[messaging][tamper]") {
  zmq::context_t context;
  SocketPair pair(context, Transport::tcp, zmq::socket_type::router, zmq::socket_type::dealer);
  std::vector<std::string> log;
  cannery::Session sender(keyed());
  cannery::Session receiver(keyed(&log));

  auto send_raw = [&](const std::vector<cannery::Buffer>& frames) {
    REQUIRE(cannery::send_frames(pair.client, frames));
  };
  auto frames = valid_frames(sender);
  auto tampered = frames;
  tampered[3] = flipped(tampered[3], 0);
  send_raw(tampered);
  auto unsigned_frames = valid_frames(sender);
  unsigned_frames[1] = cannery::Buffer();
  send_raw(unsigned_frames);
  send_raw(frames);  // valid: served
  send_raw(frames);  // replay of it: refused
  send_raw({cannery::Buffer::copy_of("no delimiter")});
  auto good = valid_frames(sender);
  send_raw(good);  // valid: served

  auto first = receiver.receive(pair.server, 5s);
  REQUIRE(first);
  auto second = receiver.receive(pair.server, 5s);
  REQUIRE(second);
  CHECK(first->header.msg_id != second->header.msg_id);
  CHECK(receiver.refusals().count(errc::signature_mismatch) == 1);
  CHECK(receiver.refusals().count(errc::signature_missing) == 1);
  CHECK(receiver.refusals().count(errc::replayed_message) == 1);
  CHECK(receiver.refusals().count(errc::malformed_message) == 1);
  CHECK(receiver.refusals().total() == 4);
  // One line per peer and reason, each naming the reason.
  CHECK(log.size() == 4);
  for (const auto& line : log)
    CHECK(line.find("refused a message from peer") != std::string::npos);
  // Nothing else is pending.
  CHECK_FALSE(receiver.receive(pair.server, 50ms));
}

TEST_CASE("repeated refusals from one peer are logged once per interval", "[messaging][tamper]") {
  std::vector<std::string> lines;
  cannery::RefusalLog log([&](std::string_view line) { lines.emplace_back(line); },
                          std::chrono::hours(1));
  cannery::error bad(errc::signature_mismatch, "bad signature");
  for (int i = 0; i < 100; ++i)
    log.record(bad, "peer-a");
  log.record(bad, "peer-b");
  log.record(cannery::error(errc::replayed_message, "replay"), "peer-a");
  CHECK(log.count(errc::signature_mismatch) == 101);
  CHECK(log.total() == 102);
  CHECK(lines.size() == 3);

  cannery::RefusalLog immediate([&](std::string_view line) { lines.emplace_back(line); },
                                std::chrono::seconds(0));
  lines.clear();
  immediate.record(bad, "p");
  immediate.record(bad, "p");
  CHECK(lines.size() == 2);
}

TEST_CASE("the replay history is bounded", "[messaging][tamper]") {
  cannery::SessionOptions o = keyed();
  o.replay_history = 4;
  cannery::Session sender(keyed());
  cannery::Session receiver(o);
  auto first = valid_frames(sender);
  receiver.deserialize(first);
  for (int i = 0; i < 4; ++i)
    receiver.deserialize(valid_frames(sender));
  // The oldest signature has been forgotten: the bound is what it costs.
  CHECK_NOTHROW(receiver.deserialize(first));
}
