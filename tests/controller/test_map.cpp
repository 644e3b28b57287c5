// map: chunking, ordering, schemes, progress.
#include <catch2/catch.hpp>
#include <numeric>
#include <sstream>

#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace cannery::test;

namespace {
std::vector<double> iota(std::size_t n) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  return v;
}
}  // namespace

TEST_CASE("map splits into chunks of chunk_size and keeps input order", "[controller]") {
  Cluster cluster(1);
  MapOptions o;
  o.chunk_size = 3;
  auto m = cluster.controller.map("square", o, iota(10));
  auto squares = m.get<double>(5000ms);
  REQUIRE(squares.size() == 10);
  for (std::size_t i = 0; i < 10; ++i)
    CHECK(squares[i] == static_cast<double>(i * i));
  CHECK(cluster[0].map_counts() == std::vector<std::uint64_t>{3, 3, 3, 1});
  CHECK(m.progress().done == 10);
  CHECK(m.progress().total == 10);
  CHECK(m.ready());
  // Objects, too.
  auto objects = m.get(5000ms);
  CHECK(objects[3].to_double() == 9.0);
}

TEST_CASE("an engine that did not offer batches gets one message per request", "[controller]") {
  InProcessEngineOptions no_batches;
  no_batches.capabilities.clear();
  Cluster cluster(1, fast_options(), no_batches);
  MapOptions o;
  o.chunk_size = 1;
  CHECK(cluster.controller.map("square", o, iota(10)).get<double>(5000ms).size() == 10);
  CHECK(cluster[0].count(protocol::MapRequest::type) == 10);
  CHECK(cluster[0].count(protocol::batch_request) == 0);
}

TEST_CASE("map over several ranges passes element i of each", "[controller]") {
  Cluster cluster(2);
  std::vector<double> a{1, 2, 3, 4, 5};
  std::vector<double> b{10, 20, 30, 40, 50};
  MapOptions o;
  o.chunk_size = 2;
  auto sums = cluster.controller.map("add", o, a, b).get<double>(5000ms);
  CHECK(sums == std::vector<double>{11, 22, 33, 44, 55});
  std::vector<std::string> words{"x", "y"};
  auto who = cluster.controller.map("whoami_or_echo_is_unknown", {}, words);
  CHECK(capture_error([&] { who.get(5000ms); }).code() == errc::unknown_function);
  CHECK(capture_error([&] { cluster.controller.map("add", o, a, words); }).code() ==
        errc::invalid_argument);
  o.chunk_size = 0;
  CHECK(capture_error([&] { cluster.controller.map("add", o, a); }).code() ==
        errc::invalid_argument);
}

TEST_CASE("the chunks of a vector given as an rvalue view it, copying nothing", "[controller]") {
  // Chunks large enough to travel out of band, not inlined in their header.
  std::vector<double> values = iota(100000);
  const double* storage = values.data();
  const detail::MapChunks<std::vector<double>> cut(std::move(values));
  const NDArray chunk = cut(40000, 70000);
  CHECK(chunk.shape() == NDArray::Shape{30000});
  CHECK(chunk.data_as<double>() == storage + 40000);
  const CannedObject canned = can(chunk);
  REQUIRE(canned.buffers.size() == 1);
  CHECK(!canned.buffers[0].is_borrowed());  // owned: the task keeps the vector alive
  CHECK(canned.buffers[0].data() == reinterpret_cast<const std::byte*>(storage + 40000));

  // Such chunks beside the copied chunks of an lvalue range, on engines.
  Cluster cluster(2);
  const std::vector<double> tens{0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  MapOptions o;
  o.chunk_size = 3;
  auto sums = cluster.controller.map("add", o, iota(10), tens).get<double>(5000ms);
  CHECK(sums == std::vector<double>{0, 11, 22, 33, 44, 55, 66, 77, 88, 99});
}

TEST_CASE("unordered map results come in completion order", "[controller]") {
  Cluster cluster(1);
  std::vector<double> delays{300, 200, 100, 0};
  MapOptions o;
  o.ordered = false;
  auto unordered = cluster.controller.map("reply_after_ms", o, delays).get<double>(5000ms);
  CHECK(unordered == std::vector<double>{0, 100, 200, 300});
  o.ordered = true;
  auto ordered = cluster.controller.map("reply_after_ms", o, delays).get<double>(5000ms);
  CHECK(ordered == delays);
}

TEST_CASE("every scheme spreads chunks over the engines and completes", "[controller]") {
  auto scheme = GENERATE(Scheme::leastload, Scheme::lru, Scheme::twobin, Scheme::random);
  Cluster cluster(2);
  MapOptions o;
  o.scheme = scheme;
  o.chunk_size = 2;
  auto results = cluster.controller.map("square", o, iota(200)).get<double>(10000ms);
  REQUIRE(results.size() == 200);
  for (std::size_t i = 0; i < 200; ++i)
    REQUIRE(results[i] == static_cast<double>(i * i));
  const auto chunks0 = cluster[0].map_counts().size();
  const auto chunks1 = cluster[1].map_counts().size();
  CHECK(chunks0 + chunks1 == 100);
  if (scheme == Scheme::leastload || scheme == Scheme::lru) {
    // Ties go to the least recently used engine: both get a fair share.
    CHECK(chunks0 >= 25);
    CHECK(chunks1 >= 25);
  } else {
    CHECK(chunks0 > 0);
    CHECK(chunks1 > 0);
  }
}

TEST_CASE("lru alternates between idle engines", "[controller]") {
  Cluster cluster(2);
  MapOptions o;
  o.scheme = Scheme::lru;
  auto who = cluster.controller.map("which_engine", o, iota(6)).get<std::string>(5000ms);
  for (std::size_t i = 2; i < who.size(); ++i)
    CHECK(who[i] == who[i - 2]);
  CHECK(who[0] != who[1]);
}

TEST_CASE("an empty map is ready at once", "[controller]") {
  Cluster cluster(1);
  auto m = cluster.controller.map("square", {}, std::vector<double>{});
  CHECK(m.ready());
  CHECK(m.get<double>(10ms).empty());
}

TEST_CASE("wait_interactive draws a final line on a non-terminal", "[controller]") {
  Cluster cluster(2);
  auto m = cluster.controller.map("reply_after_ms", {}, std::vector<double>(10, 20.0));
  std::ostringstream out;
  CHECK(m.wait_interactive(out, 5000ms));
  const std::string text = out.str();
  CHECK_THAT(text, Catch::Contains("10/10"));
  CHECK(std::count(text.begin(), text.end(), '\n') == 1);
  CHECK(text.find('\r') == std::string::npos);
  auto slow = cluster.controller.map("reply_after_ms", {}, std::vector<double>{500});
  std::ostringstream partial;
  CHECK_FALSE(slow.wait_interactive(partial, 50ms));
  CHECK_THAT(partial.str(), Catch::Contains("0/1") && Catch::Contains("still running"));
}
