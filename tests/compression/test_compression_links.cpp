// Links between hosts compress as ControllerOptions::compression says, both
// ways (tasks out, results back); links on one host never do. The hosts are
// test hosts (DESIGN.md, "Test hosts"); skipped, with the reason printed,
// without root.

#include <algorithm>
#include <cannery/controller.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "compression_support.hpp"
#include "source_examples.hpp"
#include "test_hosts.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
using cannery::test::TestHosts;

TEST_CASE("a link to another host compresses tasks and results and one on this host does not",
          "[compression]") {
  TestHosts hosts(3);
  if (!hosts.available()) {
    WARN("skipped: " << hosts.why_not());
    return;
  }
  auto inside = hosts.enter(0);  // this test's controller lives on host 0
  const std::string address = TestHosts::address(0);

  cannery::ControllerOptions options;
  options.interface = "tcp://" + address;  // engines on other hosts reach it here
  options.compression.codec = cannery::Codec::automatic;
  cannery::Controller controller(options);

  const std::string file = controller.connection_file().string();
  for (int host = 1; host <= 2; ++host) {
    hosts.start(host, {CANNERY_ENGINE_PROGRAM, "--connection-file", file, "--exit-with-parent"});
  }
  controller.wait_for_engines(2, 60s);
  for (const cannery::EngineInfo& engine : controller.engines())
    CHECK(engine.compression == "auto");

  // Out: 2 MiB of a smooth field to each engine, far fewer bytes on the
  // link (put for the caller, below relay_min_bytes: relayed puts go
  // uncompressed, docs/controller.md).
  const std::vector<double> field = cannery::test::smooth_field(1 << 18);
  double expected = 0;
  for (double x : field)
    expected += x;
  const std::uint64_t sent_before = controller.bytes_sent();
  for (int id : controller.engine_ids())
    CHECK(controller.apply(id, "sum", field).get<double>(60s) == Approx(expected));
  const std::uint64_t sent = controller.bytes_sent() - sent_before;
  CHECK(sent < field.size() * sizeof(double));  // two copies went in less than one's size

  // Back: an engine's 8 MB result (a ramp, which shrinks) arrives compressed.
  const std::uint64_t received_before = controller.stats().bytes_received;
  const auto ramp = controller.apply(cannery::any_engine, "ramp", std::int64_t{1} << 20)
                        .get<std::vector<double>>(60s);
  REQUIRE(ramp.size() == std::size_t{1} << 20);
  for (std::size_t i = 0; i < ramp.size(); i += 4099)
    CHECK(ramp[i] == static_cast<double>(i));
  CHECK(controller.stats().bytes_received - received_before < ramp.size() * sizeof(double) / 2);

  // Random doubles do not shrink: auto sends them as they are, and they
  // arrive whole.
  const std::vector<double> noise = cannery::test::random_doubles(1 << 18);
  double noise_sum = 0;
  for (double x : noise)
    noise_sum += x;
  CHECK(controller.apply(cannery::any_engine, "sum", noise).get<double>(60s) == Approx(noise_sum));

  // The example of docs/controller.md, "Compression on slow links", is this
  // test's set-up, line for line.
  const auto blocks = cannery::test::markdown_cpp_blocks("docs/controller.md");
  const auto example = std::find_if(blocks.begin(), blocks.end(), [](const std::string& b) {
    return b.find("options.compression.codec") != std::string::npos;
  });
  REQUIRE(example != blocks.end());
  CHECK(cannery::test::contains_lines(
      cannery::test::source_file("tests/compression/test_compression_links.cpp"), *example));
}

TEST_CASE("engines on the controller's host get no compression whatever the options say",
          "[compression]") {
  cannery::test::TempDir dir;
  cannery::ControllerOptions o;
  o.connection_file = dir / "controller.json";
  o.compression.codec = cannery::Codec::zstd;
  cannery::Controller controller(o);  // tcp://127.0.0.1: loopback
  controller.spawn_local_engines(1);
  controller.wait_for_engines(1, 60s);
  CHECK(controller.engines().front().compression == "none");
  // Below auto_put_min_bytes: it travels in the task, over the socket.
  const std::vector<double> field = cannery::test::smooth_field(1 << 16);
  const std::uint64_t before = controller.bytes_sent();
  controller.apply(cannery::any_engine, "sum", field).get<double>(60s);
  CHECK(controller.bytes_sent() - before > field.size() * sizeof(double));
}
