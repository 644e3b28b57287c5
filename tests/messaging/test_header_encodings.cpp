// A Jupyter header is read the same in every msgpack encoding a peer may
// choose (fixmap or map16/map32, fixstr or str8/16/32), extra keys of any
// type are ignored, and a header that is not a map of strings where it
// matters is refused.

#include <cannery/canning.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

using cannery::Buffer;
using cannery::errc;

namespace {

constexpr const char* header_encodings_key = "header-encodings-key";

enum class Width { shortest, one, two, four };

// msgpack bytes written by hand, to choose each length's encoding.
struct Bytes {
  std::vector<std::uint8_t> out;

  void length(std::uint64_t n, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
      out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  }
  void map(std::size_t entries, Width w) {
    if (w == Width::shortest && entries < 16) {
      out.push_back(static_cast<std::uint8_t>(0x80 | entries));
    } else if (w == Width::four) {
      out.push_back(0xdf);
      length(entries, 4);
    } else {
      out.push_back(0xde);
      length(entries, 2);
    }
  }
  void str(std::string_view s, Width w) {
    switch (w) {
      case Width::shortest:
        REQUIRE(s.size() < 32);
        out.push_back(static_cast<std::uint8_t>(0xa0 | s.size()));
        break;
      case Width::one:
        out.push_back(0xd9);
        length(s.size(), 1);
        break;
      case Width::two:
        out.push_back(0xda);
        length(s.size(), 2);
        break;
      case Width::four:
        out.push_back(0xdb);
        length(s.size(), 4);
        break;
    }
    out.insert(out.end(), s.begin(), s.end());
  }
  Buffer frame() const { return Buffer::copy_of(out.data(), out.size()); }
};

const std::vector<std::pair<std::string, std::string>> header_fields = {
    {"msg_id", "f3a1_42_7"}, {"msg_type", "execute_request"},  {"username", "ada"},
    {"session", "f3a1"},     {"date", "2026-11-21T09:10:00Z"}, {"version", "5.3"}};

Buffer header_frame(Width map_width, Width str_width) {
  Bytes b;
  b.map(header_fields.size(), map_width);
  for (const auto& [name, value] : header_fields) {
    b.str(name, str_width);
    b.str(value, str_width);
  }
  return b.frame();
}

// A map of `entries` entries whose first is "msg_id": "a".
Bytes starting_with_msg_id(std::size_t entries, Width map_width) {
  Bytes b;
  b.map(entries, map_width);
  b.str("msg_id", Width::shortest);
  b.str("a", Width::shortest);
  return b;
}

cannery::Session keyed_session() {
  cannery::SessionOptions o;
  o.key = header_encodings_key;
  return cannery::Session(o);
}

// Signs frames whose dicts were replaced, so that only their contents count.
void resign(std::vector<Buffer>& frames) {
  frames[1] = Buffer::copy_of(
      cannery::Signer(header_encodings_key).sign(std::span<const Buffer>(frames).subspan(2, 4)));
}

// A valid signed message whose header frame is `header`.
std::vector<Buffer> message_with_header(Buffer header) {
  cannery::Session sender = keyed_session();
  std::vector<Buffer> frames = sender.serialize(sender.message("placeholder"));
  frames[2] = std::move(header);
  resign(frames);
  return frames;
}

cannery::Message received(Buffer header) {
  return keyed_session().deserialize(message_with_header(std::move(header)));
}

void check_fields(const cannery::MessageHeader& h) {
  CHECK(h.msg_id == "f3a1_42_7");
  CHECK(h.msg_type == "execute_request");
  CHECK(h.username == "ada");
  CHECK(h.session == "f3a1");
  CHECK(h.date == "2026-11-21T09:10:00Z");
  CHECK(h.version == "5.3");
}

errc refusal(Buffer header) {
  return cannery::test::capture_error([&] { received(std::move(header)); }).code();
}

}  // namespace

TEST_CASE("a header reads the same in every map and string encoding", "[messaging][header]") {
  for (Width map_width : {Width::shortest, Width::two, Width::four}) {
    for (Width str_width : {Width::shortest, Width::one, Width::two, Width::four}) {
      CAPTURE(static_cast<int>(map_width), static_cast<int>(str_width));
      check_fields(received(header_frame(map_width, str_width)).header);
    }
  }
}

TEST_CASE("extra header keys of any type are ignored", "[messaging][header]") {
  Bytes b;
  b.map(header_fields.size() + 2, Width::shortest);
  b.str("subshell_id", Width::shortest);
  b.out.push_back(0xc0);  // nil
  for (const auto& [name, value] : header_fields) {
    b.str(name, Width::shortest);
    b.str(value, Width::shortest);
  }
  b.str("retries", Width::shortest);
  b.out.push_back(0x92);  // [1, {}]
  b.out.push_back(0x01);
  b.out.push_back(0x80);
  check_fields(received(b.frame()).header);
}

TEST_CASE("an empty parent header in a longer encoding is no parent", "[messaging][header]") {
  std::vector<Buffer> frames = message_with_header(header_frame(Width::shortest, Width::shortest));
  Bytes empty;
  empty.map(0, Width::two);
  frames[3] = empty.frame();
  resign(frames);
  CHECK_FALSE(keyed_session().deserialize(frames).parent_header.has_value());
}

TEST_CASE("headers that are not maps of strings where it matters are refused",
          "[messaging][header]") {
  SECTION("a known field that is not a string") {
    Bytes b = starting_with_msg_id(2, Width::shortest);
    b.str("msg_type", Width::shortest);
    b.out.push_back(0x07);
    auto e = cannery::test::capture_error([&] { received(b.frame()); });
    CHECK(e.code() == errc::malformed_message);
    CHECK_THAT(e.message(), Catch::Contains("'msg_type' is not a string"));
  }
  SECTION("a key that is not a string") {
    Bytes b;
    b.map(1, Width::shortest);
    b.out.push_back(0x01);
    b.str("x", Width::shortest);
    CHECK(refusal(b.frame()) == errc::malformed_message);
  }
  SECTION("no msg_type") {
    CHECK(refusal(starting_with_msg_id(1, Width::shortest).frame()) == errc::malformed_message);
  }
  SECTION("a string cut short, in each encoding") {
    for (Width w : {Width::shortest, Width::one, Width::two, Width::four}) {
      Buffer whole = header_frame(Width::shortest, w);
      CHECK(refusal(whole.slice(0, whole.size() - 1)) == errc::malformed_message);
    }
  }
  SECTION("a map that claims more entries than it has") {
    CHECK(refusal(starting_with_msg_id(0xffffffff, Width::four).frame()) ==
          errc::malformed_message);
  }
  SECTION("bytes after the map") {
    const Buffer whole = header_frame(Width::shortest, Width::shortest);
    Bytes b;
    for (std::byte byte : whole.bytes())
      b.out.push_back(static_cast<std::uint8_t>(byte));
    b.out.push_back(0xc0);
    CHECK(refusal(b.frame()) == errc::malformed_message);
  }
  SECTION("not a map") {
    Bytes b;
    b.str("msg_id", Width::shortest);
    CHECK(refusal(b.frame()) == errc::malformed_message);
    Bytes list;
    list.out.push_back(0x91);  // [nil]
    list.out.push_back(0xc0);
    CHECK(refusal(list.frame()) == errc::malformed_message);
  }
  SECTION("an extra key nesting deeper than the limit") {
    const std::size_t depth = cannery::Limits{}.max_depth + 1;
    Bytes b = starting_with_msg_id(3, Width::shortest);
    b.str("msg_type", Width::shortest);
    b.str("x", Width::shortest);
    b.str("deep", Width::shortest);
    for (std::size_t i = 0; i < depth; ++i)
      b.out.push_back(0x91);  // a list of one...
    b.out.push_back(0xc0);    // ... nil
    auto e = cannery::test::capture_error([&] { received(b.frame()); });
    CHECK(e.code() == errc::malformed_message);
    CHECK_THAT(e.message(), Catch::Contains("deeper"));
  }
  SECTION("a known field holding a container") {
    Bytes b = starting_with_msg_id(2, Width::shortest);
    b.str("msg_type", Width::shortest);
    b.out.push_back(0x80);  // {}
    auto e = cannery::test::capture_error([&] { received(b.frame()); });
    CHECK_THAT(e.message(), Catch::Contains("'msg_type' is not a string"));
  }
}
