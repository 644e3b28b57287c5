// Warm receive memory (receive_memory.hpp) in a process of its own, as the
// setting must come before any thread: receive_memory_probe receives a
// stream of messages of varying sizes and reports what it held.

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "engine_process.hpp"
#include "test_support.hpp"

namespace {

using cannery::test::mib;
// Resident memory the estimate cannot tell from held memory: thread stacks,
// libzmq's own buffers.
constexpr double slack = 8.0 * mib;

// The probe's "name value" lines.
std::map<std::string, double> run_probe(std::size_t bound, int return_after_ms) {
  cannery::test::TempDir dir;
  const auto output = dir / "probe.out";
  cannery::test::Program probe(CANNERY_RECEIVE_MEMORY_PROBE,
                               {std::to_string(bound), std::to_string(return_after_ms)}, output);
  REQUIRE(probe.exit_status_within(std::chrono::seconds(60)) == 0);
  std::map<std::string, double> values;
  std::istringstream lines(cannery::test::contents_of(output));
  std::string name;
  double value = 0;
  while (lines >> name >> value)
    values[name] = value;
  return values;
}

// What the probe said, for the test's report.
std::string said(const std::map<std::string, double>& got) {
  std::ostringstream out;
  for (const auto& [name, value] : got)
    out << name << ' ' << value << "; ";
  return out.str();
}

// False when the probe could not keep its memory (a sanitizer's allocator):
// then keep_receive_memory_warm said so and changed nothing, and the probe
// said nothing more. Otherwise all four values are there.
bool kept(const std::map<std::string, double>& got) {
  REQUIRE(got.count("kept") == 1);
  if (got.at("kept") == 0) {
    CHECK(got.size() == 1);
    return false;
  }
  REQUIRE(got.size() == 4);
  return true;
}

}  // namespace

TEST_CASE("received memory is reused within its bound and given back when idle",
          "[messaging][receive_memory]") {
  // Larger than any message of the stream (56 MiB): every block freed is kept.
  const std::size_t bound = 128 * mib;
  const std::map<std::string, double> got = run_probe(bound, 200);
  INFO("probe said: " << said(got));
  if (!kept(got)) return;
  CHECK(got.at("max_held") <= static_cast<double>(bound) + slack);
  // Fresh memory costs 256 faults per MiB; the second pass reuses the first's.
  CHECK(got.at("second_pass_faults") < 8);
  CHECK(got.at("held_idle") <= slack);
}

TEST_CASE("received memory held stays within a bound below the messages' sizes",
          "[messaging][receive_memory]") {
  const std::size_t bound = 16 * mib;
  const std::map<std::string, double> got = run_probe(bound, 200);
  INFO("probe said: " << said(got));
  if (!kept(got)) return;
  CHECK(got.at("max_held") <= static_cast<double>(bound) + slack);
}
