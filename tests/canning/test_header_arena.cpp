// The header frames of one apply message share an allocation (HeaderArena):
// the bytes are those each object would have alone, every header starts
// aligned, and writers that overlap or give up never write over another's
// header.

#include <cannery/canning.hpp>

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

bool same_owner(const cannery::Buffer& a, const cannery::Buffer& b) {
  return !a.owner().owner_before(b.owner()) && !b.owner().owner_before(a.owner());
}

bool aligned_for_any_scalar(const cannery::Buffer& b) {
  return reinterpret_cast<std::uintptr_t>(b.data()) % alignof(std::max_align_t) == 0;
}

template <class T>
std::string alone(const T& value) {
  return std::string(cannery::can(value).header.as_string_view());
}

}  // namespace

TEST_CASE("the header frames of a small call share one allocation, each with its own bytes",
          "[canning][apply]") {
  const std::vector<double> samples(16, 0.25);
  const std::string name = "gradient.norm";
  auto frames = cannery::pack_apply_message("record", std::int64_t{1234567}, name, 0.5, samples);
  REQUIRE(frames.size() == 5);  // apply header and four arguments, arrays inlined
  for (std::size_t i = 1; i < frames.size(); ++i) {
    CHECK(same_owner(frames[0], frames[i]));
    CHECK(aligned_for_any_scalar(frames[i]));
  }
  CHECK(frames[1].as_string_view() == alone(std::int64_t{1234567}));
  CHECK(frames[2].as_string_view() == alone(name));
  CHECK(frames[3].as_string_view() == alone(0.5));
  CHECK(frames[4].as_string_view() == alone(samples));

  // Read in place: the inlined array is viewed where it lies.
  auto call = cannery::unpack_apply_message(frames);
  CHECK(call.next_arg<std::int64_t>() == 1234567);
  CHECK(call.next_arg<std::string>() == name);
  CHECK(call.next_arg<double>() == 0.5);
  CHECK(call.next_arg<std::vector<double>>() == samples);
}

TEST_CASE("a header too large for the shared block gets storage of its own", "[canning][apply]") {
  const std::vector<double> inlined(120, 1.5);  // 960 bytes: inlined, larger than the block
  auto frames = cannery::pack_apply_message("f", 1, inlined, 2, inlined, 3);
  REQUIRE(frames.size() == 6);
  CHECK(same_owner(frames[0], frames[1]));
  CHECK_FALSE(same_owner(frames[1], frames[2]));
  CHECK(same_owner(frames[1], frames[3]));  // the block's room was given back
  CHECK_FALSE(same_owner(frames[2], frames[4]));
  for (const auto& frame : frames)
    CHECK(aligned_for_any_scalar(frame));
  CHECK(frames[2].as_string_view() == alone(inlined));
  CHECK(frames[4].as_string_view() == alone(inlined));

  auto call = cannery::unpack_apply_message(frames);
  CHECK(call.next_arg<int>() == 1);
  CHECK(call.next_arg<std::vector<double>>() == inlined);
  CHECK(call.next_arg<int>() == 2);
  CHECK(call.next_arg<std::vector<double>>() == inlined);
  CHECK(call.next_arg<int>() == 3);
}

TEST_CASE("writers sharing an arena never write into each other's header", "[canning][apply]") {
  cannery::detail::HeaderArena arena;
  cannery::SerializeOptions options;

  // Two writers at once: the second must not start where the first is writing.
  cannery::Writer first(options, arena);
  cannery::Writer second(options, arena);
  first.write(std::string(100, 'a'));
  second.write(std::string(100, 'b'));
  const cannery::Buffer a = std::move(first).finish().header;
  const cannery::Buffer b = std::move(second).finish().header;
  CHECK(a.as_string_view() == alone(std::string(100, 'a')));
  CHECK(b.as_string_view() == alone(std::string(100, 'b')));

  // A writer given up half way leaves the arena usable, and what it wrote
  // does not end up in the next header.
  {
    cannery::Writer abandoned(options, arena);
    abandoned.write(std::string(50, 'x'));
  }
  cannery::Writer next(options, arena);
  next.write(7);
  const cannery::Buffer c = std::move(next).finish().header;
  CHECK(c.as_string_view() == alone(7));
  CHECK(aligned_for_any_scalar(c));
  // The finished headers are unchanged by the writers after them.
  CHECK(a.as_string_view() == alone(std::string(100, 'a')));
  CHECK(b.as_string_view() == alone(std::string(100, 'b')));
}
