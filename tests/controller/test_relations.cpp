// The two-sided indexes of the controller's core (relations.hpp): whatever is
// done to one side shows on the other, and consistent() holds throughout.

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "../../controller/src/relations.hpp"

using cannery::detail::ManyToMany;
using cannery::detail::ManyToOne;

TEST_CASE("a task placed on an engine is found from both sides until it ends",
          "[controller][relations]") {
  ManyToOne<std::uint64_t, int> placement;
  placement.link(1, 7);
  placement.link(2, 7);
  placement.link(3, 8);
  CHECK(placement.owner_of(1) == 7);
  CHECK(placement.count(7) == 2);
  CHECK(placement.consistent());
  placement.link(2, 8);  // moved: no longer on 7
  CHECK(placement.count(7) == 1);
  CHECK(placement.count(8) == 2);
  CHECK(placement.unlink(1));
  CHECK_FALSE(placement.unlink(1));
  CHECK_FALSE(placement.owner_of(1));
  CHECK(placement.count(7) == 0);
  auto lost = placement.unlink_owner(8);
  std::sort(lost.begin(), lost.end());
  CHECK(lost == std::vector<std::uint64_t>{2, 3});
  CHECK_FALSE(placement.owner_of(3));
  CHECK(placement.unlink_owner(8).empty());
  CHECK(placement.consistent());
}

TEST_CASE("refs held by engines are dropped from both sides by ref or by engine",
          "[controller][relations]") {
  ManyToMany<std::uint64_t, int> holdings;
  holdings.link(10, 1);
  holdings.link(10, 2);
  holdings.link(11, 2);
  CHECK(holdings.linked(10, 2));
  CHECK(holdings.consistent());
  auto gone = holdings.unlink_b(2);  // engine 2 died
  std::sort(gone.begin(), gone.end());
  CHECK(gone == std::vector<std::uint64_t>{10, 11});
  CHECK_FALSE(holdings.linked(11, 2));
  CHECK(holdings.linked(10, 1));
  CHECK(holdings.unlink_a(10) == std::vector<int>{1});  // ref 10 released
  CHECK_FALSE(holdings.linked(10, 1));
  std::size_t pairs = 0;
  holdings.for_each([&](std::uint64_t, int) { ++pairs; });
  CHECK(pairs == 0);
  CHECK(holdings.consistent());
}
