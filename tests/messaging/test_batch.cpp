// Batches: several protocol messages in one, each part's buffers counted.

#include <cannery/canning.hpp>
#include <cannery/messaging/batch.hpp>
#include <cannery/messaging/protocol.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace proto = cannery::protocol;
using cannery::BatchBuilder;
using cannery::Buffer;
using cannery::Object;

namespace {

Buffer bytes(const std::string& s) {
  return Buffer::copy_of(s.data(), s.size());
}

// A batch content whose single list holds `parts` as given.
Object batch_of(Object::List parts) {
  return Object(Object::Dict{{std::string(proto::requests), Object(std::move(parts))}});
}

Object part(std::int64_t frames) {
  return Object(Object::Dict{{std::string(proto::frames), Object(frames)}});
}

cannery::errc split_error(Object content, std::vector<Buffer> buffers) {
  try {
    cannery::split_batch(content, proto::requests, buffers);
  } catch (const cannery::error& e) {
    return e.code();
  }
  FAIL("split_batch accepted a malformed batch");
  return {};
}

}  // namespace

TEST_CASE("a batch splits back into its parts, each with its own buffers", "[messaging][batch]") {
  BatchBuilder builder;
  const std::vector<Buffer> first{bytes("a"), bytes("bb")};
  const std::vector<Buffer> third{bytes("ccc")};
  builder.add({{"task", Object(1)}}, first);
  builder.add({{"task", Object(2)}}, {});
  builder.add({{"task", Object(3)}}, third);
  CHECK(builder.parts() == 3);
  CHECK(builder.frames() == 3);
  Object content(builder.take_content(proto::requests));
  std::vector<Buffer> buffers = builder.take_buffers();
  REQUIRE(buffers.size() == 3);

  auto parts = cannery::split_batch(content, proto::requests, buffers);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].content.at("task").to_int64() == 1);
  CHECK(parts[0].content.find(proto::frames) == nullptr);
  REQUIRE(parts[0].buffers.size() == 2);
  CHECK(parts[0].buffers[1].as_string_view() == "bb");
  // The parts view the batch's frames; nothing is copied.
  CHECK(parts[0].buffers[0].data() == first[0].data());
  CHECK(parts[1].buffers.empty());
  REQUIRE(parts[2].buffers.size() == 1);
  CHECK(parts[2].buffers[0].as_string_view() == "ccc");
}

TEST_CASE("a batch whose counts do not match what arrived is refused", "[messaging][batch]") {
  std::vector<Buffer> two{bytes("x"), bytes("y")};
  using cannery::errc;
  CHECK(split_error(Object(Object::Dict{}), two) == errc::malformed_message);
  CHECK(split_error(Object(Object::Dict{{std::string(proto::requests), Object(3)}}), two) ==
        errc::malformed_message);
  CHECK(split_error(Object(Object::List{}), two) == errc::malformed_message);
  // Too few, too many, negative, missing, not an integer, not a dict.
  CHECK(split_error(batch_of({part(1)}), two) == errc::malformed_message);
  CHECK(split_error(batch_of({part(2), part(1)}), two) == errc::malformed_message);
  CHECK(split_error(batch_of({part(3), part(-1)}), two) == errc::malformed_message);
  CHECK(split_error(batch_of({part(2), Object(Object::Dict{})}), two) == errc::malformed_message);
  CHECK(split_error(batch_of({Object(Object::Dict{{std::string(proto::frames), Object("2")}})}),
                    two) == errc::malformed_message);
  CHECK(split_error(batch_of({Object(2)}), two) == errc::malformed_message);
  // Beyond int64.
  CHECK(split_error(batch_of({Object(Object::Dict{
                        {std::string(proto::frames), Object(std::uint64_t{1} << 63)}})}),
                    two) == errc::malformed_message);

  Object fine = batch_of({part(0), part(2)});
  CHECK(cannery::split_batch(fine, proto::requests, two).size() == 2);
}
