// Batches: several protocol messages in one, each part's buffers counted.

#include <cannery/canning.hpp>
#include <cannery/messaging/batch.hpp>
#include <cannery/messaging/messages.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace proto = cannery::protocol;
using cannery::BatchBuilder;
using cannery::Buffer;
using cannery::Object;
using Catch::Matchers::Contains;

namespace {

Buffer bytes(const std::string& s) {
  return Buffer::copy_of(s.data(), s.size());
}

// A batch content whose single list holds `parts` as given.
Object batch_of(Object::List parts) {
  return Object(Object::Dict{{std::string(proto::batch_requests_field), Object(std::move(parts))}});
}

// A part as a sender writes it, claiming `frames` of the batch's buffers.
Object part(Object frames) {
  return Object(Object::Dict{{"type", Object(std::string(proto::ApplyRequest::type))},
                             {"task", Object(1)},
                             {"frames", std::move(frames)}});
}

Object part(std::int64_t frames) {
  return part(Object(frames));
}

// `part` without its entry `key`, or with it set to `value`.
Object without(Object part, const std::string& key) {
  part.to_dict().erase(key);
  return part;
}

Object with(Object part, const std::string& key, Object value) {
  part.to_dict()[key] = std::move(value);
  return part;
}

// The refusal of a malformed batch; fails the test when it is accepted.
cannery::error split_error(Object content, std::vector<Buffer> buffers,
                           std::string_view list_field = proto::batch_requests_field) {
  return cannery::test::capture_error([&] { cannery::split_batch(content, list_field, buffers); });
}

}  // namespace

TEST_CASE("a batch splits back into its parts each with its own buffers", "[messaging][batch]") {
  BatchBuilder builder;
  const std::vector<Buffer> first{bytes("a"), bytes("bb")};
  const std::vector<Buffer> third{bytes("ccc")};
  builder.add(
      proto::ApplyRequest{.task = 1, .shared_memory = std::nullopt, .keep_as = std::nullopt},
      first);
  builder.add(proto::PullRequest{.task = 2, .name = "weights"}, {});
  builder.add(
      proto::ApplyRequest{.task = 3, .shared_memory = std::nullopt, .keep_as = std::nullopt},
      third);
  CHECK(builder.parts() == 3);
  CHECK(builder.frames() == 3);
  Object content(builder.take_content(proto::batch_requests_field));
  std::vector<Buffer> buffers = builder.take_buffers();
  REQUIRE(buffers.size() == 3);

  auto parts = cannery::split_batch(content, proto::batch_requests_field, buffers);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].type == proto::ApplyRequest::type);
  CHECK(parts[1].type == proto::PullRequest::type);
  // A part's content is its message's, read with the codec, which ignores
  // the batch's own "type" and "frames" left in it.
  CHECK(proto::decode<proto::ApplyRequest>(parts[0].content).task == 1);
  CHECK(proto::decode<proto::PullRequest>(parts[1].content).name == "weights");
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
  // Each malformed batch, and the field its refusal must name.
  const std::vector<std::pair<Object, std::string>> malformed = {
      {Object(Object::Dict{}), "'requests'"},
      {Object(Object::Dict{{std::string(proto::batch_requests_field), Object(3)}}), "'requests'"},
      {Object(Object::List{}), "'requests'"},
      // Too few, too many, negative, missing, not an integer, not a dict.
      {batch_of({part(1)}), "'requests'"},
      {batch_of({part(2), part(1)}), "'requests[1].frames'"},
      {batch_of({part(3), part(-1)}), "'requests[0].frames'"},
      {batch_of({part(0), part(-1)}), "'requests[1].frames'"},
      {batch_of({part(2), Object(Object::Dict{})}), "'requests[1]."},
      {batch_of({part(2), without(part(0), "frames")}), "'requests[1].frames'"},
      {batch_of({part(Object("2"))}), "'requests[0].frames'"},
      {batch_of({Object(2)}), "'requests[0]'"},
      // Beyond int64.
      {batch_of({part(Object(std::uint64_t{1} << 63))}), "'requests[0].frames'"},
      // A part must say which message it is.
      {batch_of({part(2), without(part(0), "type")}), "'requests[1].type'"},
      {batch_of({part(0), with(part(2), "type", Object(7))}), "'requests[1].type'"},
  };
  for (const auto& [content, field] : malformed) {
    const cannery::error e = split_error(content, two);
    INFO(e.what());
    CHECK(e.code() == cannery::errc::malformed_message);
    CHECK_THAT(e.what(), Contains(std::string(proto::batch_request)) && Contains(field));
  }

  Object fine = batch_of({part(0), part(2)});
  CHECK(cannery::split_batch(fine, proto::batch_requests_field, two).size() == 2);
}

TEST_CASE("a batch_reply's parts are apply_replies that do not name their type",
          "[messaging][batch]") {
  BatchBuilder builder;
  const std::vector<Buffer> result{bytes("r")};
  proto::ApplyReply ok;
  ok.task = 7;
  ok.engine_id = 2;
  builder.add(ok, result);
  Object content(builder.take_content(proto::batch_replies_field));
  const Object& written = content.at(proto::batch_replies_field).at(0);
  CHECK(written.find("type") == nullptr);
  CHECK(written.at("frames").to_uint64() == 1);

  std::vector<Buffer> buffers{bytes("r")};
  auto parts = cannery::split_batch(content, proto::batch_replies_field, buffers);
  REQUIRE(parts.size() == 1);
  CHECK(parts[0].type == proto::ApplyReply::type);
  CHECK(proto::decode<proto::ApplyReply>(parts[0].content).task == 7);

  // Only "frames" is required of a reply part; its count is checked as in a request.
  Object missing(Object::Dict{
      {std::string(proto::batch_replies_field),
       Object(Object::List{Object(Object::Dict{{"task", Object(std::uint64_t{7})}})})}});
  const cannery::error e = split_error(missing, buffers, proto::batch_replies_field);
  CHECK_THAT(e.what(), Contains("batch_reply: field 'replies[0].frames' is missing"));
}
