// frame_types: each frame of a message of canned objects, typed from the
// headers (what compression groups bytes by), and never a refusal.

#include <Eigen/Core>
#include <cannery/canning.hpp>
#include <catch2/catch.hpp>
#include <complex>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

TEST_CASE("frame_types names each frame's dtype and item size from the headers",
          "[canning][frame_types]") {
  std::vector<cannery::Buffer> message;
  cannery::can(std::vector<double>(1000, 1.0)).append_to(message);
  cannery::can(std::string("text")).append_to(message);
  cannery::can(std::map<std::string, std::vector<std::complex<float>>>{
                   {"a", std::vector<std::complex<float>>(1000)},
                   {"b", std::vector<std::complex<float>>(2)}})  // b is inlined
      .append_to(message);
  cannery::can(std::vector<std::byte>(5000)).append_to(message);
  cannery::can(Eigen::MatrixXi(Eigen::MatrixXi::Zero(40, 40))).append_to(message);
  const std::vector<cannery::FrameType> types = cannery::frame_types(message);
  REQUIRE(types.size() == message.size());
  REQUIRE(types.size() == 9);
  CHECK(types[0].dtype == "header");
  CHECK(types[1].dtype == "<f8");
  CHECK(types[1].item_size == 8);
  CHECK(types[2].dtype == "header");
  CHECK(types[3].dtype == "header");
  CHECK(types[4].dtype == "<c8");
  CHECK(types[4].item_size == 8);
  CHECK(types[5].dtype == "header");
  CHECK(types[6].dtype == "bytes");
  CHECK(types[6].item_size == 1);
  CHECK(types[7].dtype == "header");
  CHECK(types[8].dtype == "<i4");
  CHECK(types[8].item_size == 4);
}

TEST_CASE("frame_types leaves frames that are not canned objects untyped",
          "[canning][frame_types]") {
  std::vector<cannery::Buffer> message;
  cannery::can(std::vector<std::int16_t>(1000, 1)).append_to(message);
  message.push_back(cannery::Buffer::copy_of("not a header"));
  message.push_back(cannery::Buffer::copy_of("nor this"));
  const std::vector<cannery::FrameType> types = cannery::frame_types(message);
  REQUIRE(types.size() == 4);
  CHECK(types[1].dtype == "<i2");
  CHECK(types[1].item_size == 2);
  CHECK(types[2].dtype.empty());
  CHECK(types[3].dtype.empty());
  CHECK(types[3].item_size == 1);
  CHECK(cannery::frame_types({}).empty());
}
