// Temporaries are never lent: their memory dies with the full expression, so
// their frames must own what they point at.

#include <Eigen/Core>
#include <cannery/canning.hpp>
#include <catch2/catch.hpp>
#include <map>

namespace {

const std::vector<double> make_const_vector() {
  return std::vector<double>(1000, 2.0);
}

}  // namespace

TEST_CASE("a const temporary (Eigen's eval()) is copied once and owned, not lent",
          "[canning][ownership]") {
  auto canned = cannery::can(Eigen::MatrixXd::Constant(100, 100, 3.0).eval());
  REQUIRE(canned.buffers.size() == 1);
  CHECK_FALSE(canned.buffers[0].is_borrowed());
  auto back = cannery::uncan<Eigen::MatrixXd>(canned);
  CHECK(back.isConstant(3.0));

  auto vector_canned = cannery::can(make_const_vector());
  REQUIRE(vector_canned.buffers.size() == 1);
  CHECK_FALSE(vector_canned.buffers[0].is_borrowed());
  CHECK(cannery::uncan<std::vector<double>>(vector_canned) == std::vector<double>(1000, 2.0));
}

TEST_CASE("a temporary container hands its arrays over, an lvalue one lends them",
          "[canning][ownership]") {
  std::map<std::string, std::vector<double>> kept{{"a", std::vector<double>(1000, 1.0)}};
  auto lent = cannery::can(kept);
  CHECK(lent.buffers.at(0).is_borrowed());
  CHECK(lent.buffers.at(0).data() == reinterpret_cast<const std::byte*>(kept.at("a").data()));

  auto owned = cannery::can(std::map<std::string, std::vector<double>>{
      {"a", std::vector<double>(1000, 1.0)}, {"b", std::vector<double>(2000, 2.0)}});
  REQUIRE(owned.buffers.size() == 2);
  for (const auto& buffer : owned.buffers)
    CHECK_FALSE(buffer.is_borrowed());
  auto back = cannery::uncan<std::map<std::string, std::vector<double>>>(owned);
  CHECK(back.at("b").size() == 2000);
}

TEST_CASE("Buffer::owned copies borrowed bytes once and keeps owned ones as they are",
          "[canning][ownership]") {
  std::vector<char> local(100, 'x');
  cannery::Buffer borrowed = cannery::Buffer::borrow(local.data(), local.size());
  cannery::Buffer copy = borrowed.owned();
  CHECK_FALSE(copy.is_borrowed());
  CHECK(copy.data() != borrowed.data());
  CHECK(copy == borrowed);
  cannery::Buffer again = copy.owned();
  CHECK(again.data() == copy.data());  // already owned: shared, not copied
  CHECK(cannery::Buffer().owned().empty());
}
