// SharedArray: arrays allocated in shared memory are named where they are by
// SharedFrames (nothing written), read back by receivers as the same bytes,
// mixed with frames that are written, and their segment goes with the last
// owner.

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cannery/canning.hpp>
#include <cannery/messaging/shared_array.hpp>
#include <cannery/messaging/shared_memory.hpp>
#include <catch2/catch.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "test_support.hpp"

using cannery::Buffer;
using cannery::SharedArray;
using cannery::SharedFrames;

namespace {

constexpr std::size_t min_frame = 1 << 20;

using cannery::test::segment_exists;

std::vector<std::string> segment_names(
    const cannery::protocol::SharedMemoryDescriptor& descriptor) {
  std::vector<std::string> names;
  for (const cannery::protocol::SegmentDescriptor& segment : descriptor)
    names.push_back(segment.segment);
  return names;
}

SharedArray<double> counting(std::size_t n) {
  SharedArray<double> a(n);
  std::iota(a.begin(), a.end(), 0.0);
  return a;
}

}  // namespace

TEST_CASE("a shared array starts zeroed and is writable", "[shared_memory]") {
  SharedArray<std::int32_t> a(1000);
  CHECK(a.size() == 1000);
  CHECK(std::all_of(a.begin(), a.end(), [](std::int32_t x) { return x == 0; }));
  a[999] = 7;
  CHECK(a.span().back() == 7);
  CHECK(a.buffer().size() == 4000);
  CHECK(a.buffer().data() == reinterpret_cast<const std::byte*>(a.data()));

  SharedArray<std::int32_t> moved = std::move(a);
  CHECK(moved[999] == 7);
  CHECK(a.size() == 0);  // NOLINT(bugprone-use-after-move): a moved-from array is empty
  CHECK(a.data() == nullptr);
  static_assert(!std::is_copy_constructible_v<SharedArray<double>>);

  SharedArray<float> empty(0);
  CHECK(empty.size() == 0);
  CHECK(cannery::deserialize_object<std::vector<float>>(cannery::serialize_object(empty))
            .value.empty());
}

TEST_CASE("a shared matrix is column-major and reads back as an Eigen view in place",
          "[shared_memory]") {
  SharedArray<double> m(300, 500);  // 1.2 MB: above the threshold
  CHECK(m.is_matrix());
  CHECK(m.size() == 150'000);
  m.matrix() = Eigen::MatrixXd::Random(300, 500);
  CHECK(m[1] == m.matrix()(1, 0));  // column-major, as Eigen's default
  const std::vector<Buffer> frames = cannery::serialize_object(m);

  std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_frame);
  REQUIRE(shared);
  CHECK(shared->written_bytes() == 0);
  std::vector<Buffer> received = shared->placeholders(frames);
  cannery::restore_shared_frames(shared->descriptor(), received);
  const auto view = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(received).value;
  CHECK(view == m.matrix());
  // In place: the view lies in the receiver's mapping, which holds only this matrix.
  CHECK(reinterpret_cast<const std::byte*>(view.data()) == received[1].data());
  CHECK(cannery::deserialize_object<Eigen::MatrixXd>(received).value == m.matrix());

  const SharedArray<float> vector(10);
  CHECK_FALSE(vector.is_matrix());
  CHECK(vector.rows() == 10);
  CHECK(vector.cols() == 1);
  // A shape whose bytes overflow is refused before anything is allocated.
  const auto e = cannery::test::capture_error([] { SharedArray<double>(SIZE_MAX / 4, 4); });
  CHECK(e.code() == cannery::errc::limit_exceeded);
}

TEST_CASE("a shared array's frame is named in place, not written", "[shared_memory]") {
  const SharedArray<double> weights = counting(300'000);  // 2.4 MB
  const std::vector<Buffer> frames = cannery::serialize_object(weights);
  REQUIRE(frames.size() == 2);  // header, data: the data frame is the mapping itself
  CHECK(frames[1].data() == reinterpret_cast<const std::byte*>(weights.data()));

  std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_frame);
  REQUIRE(shared);
  CHECK(shared->written_bytes() == 0);
  CHECK(shared->in_place_bytes() == 300'000 * sizeof(double));
  const cannery::protocol::SharedMemoryDescriptor descriptor = shared->descriptor();
  REQUIRE(descriptor.size() == 1);

  std::vector<Buffer> received = shared->placeholders(frames);
  CHECK(received[0] == frames[0]);
  CHECK(received[1].empty());
  cannery::restore_shared_frames(descriptor, received);
  // The receiver's own read-only mapping of the same pages.
  CHECK(received[1].data() != frames[1].data());
  const auto values = cannery::deserialize_object<std::span<const double>>(received).value;
  REQUIRE(values.size() == 300'000);
  CHECK(values[0] == 0.0);
  CHECK(values[299'999] == 299'999.0);
}

TEST_CASE("shared arrays and ordinary frames in one message", "[shared_memory]") {
  std::vector<SharedArray<double>> shared_arrays;
  shared_arrays.push_back(counting(200'000));
  shared_arrays.push_back(counting(150'000));
  std::vector<Buffer> frames = cannery::serialize_object(shared_arrays);
  cannery::can(std::vector<double>(300'000, 2.5)).append_to(frames);  // heap: written
  const std::size_t frame_count = frames.size();

  std::optional<SharedFrames> shared = SharedFrames::prepare(frames, min_frame);
  REQUIRE(shared);
  CHECK(shared->written_bytes() == 300'000 * sizeof(double));
  CHECK(shared->in_place_bytes() == 350'000 * sizeof(double));
  const cannery::protocol::SharedMemoryDescriptor descriptor = shared->descriptor();
  CHECK(descriptor.size() == 3);  // the written segment, then one per array

  std::vector<Buffer> received = shared->placeholders(frames);
  REQUIRE(received.size() == frame_count);
  cannery::restore_shared_frames(descriptor, received);
  auto [arrays, rest] = cannery::deserialize_object<std::vector<std::vector<double>>>(received);
  REQUIRE(arrays.size() == 2);
  CHECK(arrays[1].size() == 150'000);
  CHECK(arrays[1][149'999] == 149'999.0);
  CHECK(cannery::deserialize_object<std::vector<double>>(rest).value ==
        std::vector<double>(300'000, 2.5));
}

TEST_CASE("a shared array's segment goes with its last owner", "[shared_memory]") {
  std::string name;
  std::vector<Buffer> received;
  {
    std::optional<SharedFrames> shared;
    std::vector<Buffer> frames;
    {
      SharedArray<double> a = counting(200'000);
      frames = cannery::serialize_object(a);
      shared = SharedFrames::prepare(frames, min_frame);
      REQUIRE(shared);
      name = segment_names(shared->descriptor()).at(0);
      received = shared->placeholders(frames);
      cannery::restore_shared_frames(shared->descriptor(), received);
    }
    CHECK(segment_exists(name));  // the frames and SharedFrames still hold it
    frames.clear();
    CHECK(segment_exists(name));
  }
  CHECK_FALSE(segment_exists(name));
  // A receiver's view outlives the name, as any mapping does.
  CHECK(cannery::deserialize_object<std::vector<double>>(received).value.at(199'999) == 199'999.0);
}

TEST_CASE("frames below the threshold stay in the message even when shared", "[shared_memory]") {
  const SharedArray<double> small = counting(1000);
  CHECK_FALSE(SharedFrames::prepare(cannery::serialize_object(small), min_frame));
}
