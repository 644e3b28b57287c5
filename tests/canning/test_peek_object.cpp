// Looking at an object without uncanning it: peek_object gives its tag and its
// frames; ApplyMessage::next_arg_frames steps over one argument. Receivers use
// them to route arguments by tag (e.g. an engine's cached-object references)
// and to keep frames as they are.

#include <Eigen/Core>
#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <string>
#include <vector>
#include "test_support.hpp"

namespace {

using cannery::test::capture_error;
using cannery::test::inside;
using cannery::test::wire;

struct Tagged {
  int value = 0;
};

}  // namespace

template <>
struct cannery::canner<Tagged> {
  static constexpr std::string_view tag = "test.tagged";
  static void can(Writer& w, const Tagged& t) { w.integer(t.value); }
  static Tagged uncan(const Node& n) { return {n.to_integer<int>()}; }
};

TEST_CASE("peek_object names the first object's tag and splits off its frames", "[canning][peek]") {
  std::vector<cannery::Buffer> message;
  cannery::can(Eigen::MatrixXd(Eigen::MatrixXd::Random(40, 40)))
      .append_to(message);  // header + 1 frame
  cannery::can(std::int64_t{7}).append_to(message);
  cannery::can(Tagged{3}).append_to(message);
  cannery::can(std::string("x")).append_to(message);
  cannery::can(cannery::Object::Dict{{"a", 1}}).append_to(message);
  message = wire(message);

  std::vector<std::string> tags;
  std::span<const cannery::Buffer> rest = message;
  while (!rest.empty()) {
    auto peeked = cannery::peek_object(rest);
    tags.push_back(peeked.tag);
    CHECK(peeked.frames.data() == rest.data());
    CHECK(peeked.frames.size() + peeked.remaining.size() == rest.size());
    rest = peeked.remaining;
  }
  CHECK(tags == std::vector<std::string>{"ndarray", "int", "test.tagged", "str", "dict"});

  // The frames of one object uncan on their own.
  auto first = cannery::peek_object(message);
  CHECK(first.frames.size() == 2);
  auto m = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(first.frames);
  CHECK(inside(m.value.data(), message[1]));
  CHECK(m.remaining.empty());
}

TEST_CASE("peek_object checks the header as deserialize_object does", "[canning][peek]") {
  auto frames = wire(cannery::serialize_object(Eigen::MatrixXd(Eigen::MatrixXd::Random(40, 40))));
  frames.pop_back();  // the buffer frame is missing
  CHECK(capture_error([&] { cannery::peek_object(frames); }).code() ==
        cannery::errc::missing_buffers);
  CHECK(capture_error([&] { cannery::peek_object({}); }).code() == cannery::errc::missing_buffers);
  std::vector<cannery::Buffer> junk{cannery::Buffer::copy_of("not msgpack at all")};
  CHECK_THROWS_AS(cannery::peek_object(junk), cannery::error);
}

TEST_CASE("ApplyMessage::next_arg_frames steps over one argument without uncanning it",
          "[canning][apply][peek]") {
  std::vector<double> samples = cannery::test::ramp(500);
  auto frames = wire(cannery::pack_apply_message("f", samples, Tagged{5}, 2.5));
  auto call = cannery::unpack_apply_message(frames);

  auto first = call.next_arg_frames();
  CHECK(call.args_read() == 1);
  CHECK(cannery::peek_object(first).tag == "ndarray");
  CHECK(cannery::deserialize_object<std::vector<double>>(first).value == samples);

  auto second = call.next_arg_frames();
  CHECK(cannery::peek_object(second).tag == "test.tagged");
  CHECK(cannery::deserialize_object<Tagged>(second).value.value == 5);

  CHECK(call.next_arg<double>() == 2.5);
  auto past_end = capture_error([&] { call.next_arg_frames(); });
  CHECK(past_end.code() == cannery::errc::invalid_argument);
  CHECK(past_end.message().find("'f' was sent 3 positional arguments") != std::string::npos);
  CHECK(call.limits().max_depth == cannery::Limits{}.max_depth);
}

TEST_CASE("next_arg_frames names the function and position of a broken argument",
          "[canning][apply][peek]") {
  auto frames =
      wire(cannery::pack_apply_message("g", 1, Eigen::MatrixXd(Eigen::MatrixXd::Random(40, 40))));
  frames.pop_back();
  auto call = cannery::unpack_apply_message(frames);
  call.next_arg_frames();
  auto e = capture_error([&] { call.next_arg_frames(); });
  CHECK(e.code() == cannery::errc::missing_buffers);
  CHECK(e.message().rfind("argument 1 of 'g': ", 0) == 0);
  CHECK(call.args_read() == 1);
}
