// The examples in the comments that open the controller's, the engine's and
// SharedArray's headers, run as written there against real engines; each test
// also checks that the text it runs is the example's, so that the two cannot
// drift apart. The list of built-in functions and docs/engine.md's usage of
// cannery-engine are compared with the code the same way.

#include <stdlib.h>

#include <Eigen/Core>
#include <algorithm>
#include <cannery/engine.hpp>
#include <cannery/messaging/shared_array.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_fixture.hpp"
#include "engine_process.hpp"
#include "source_examples.hpp"

namespace mylib {

// The user type of plugin.hpp's example.
struct Particle {
  double mass = 0;
  double speed = 0;
  double energy() const { return 0.5 * mass * speed * speed; }
};
CANNERY_FIELDS(Particle, mass, speed)

}  // namespace mylib

// plugin.hpp's example, as written there: this program defines the entry
// point itself, and the test below calls it as load_plugin() would.
// my_plugin.cpp, built as a shared library linked to cannery::engine
#include <cannery/engine/plugin.hpp>
CANNERY_PLUGIN(registry) {
  registry.register_type<mylib::Particle>();
  registry.function("energy", [](const mylib::Particle& p) { return p.energy(); });
}

namespace {

using namespace cannery;
using cannery::test::contains_lines;
using cannery::test::header_comment_blocks;
using cannery::test::source_file;

const char* const this_file = "tests/cluster/test_header_examples.cpp";

// The one example of `header`, checked to stand in this file.
void check_example_is_run_here(const std::string& header) {
  const std::vector<std::string> blocks = header_comment_blocks(header);
  INFO(header);
  REQUIRE(!blocks.empty());
  INFO(blocks[0]);
  CHECK(contains_lines(source_file(this_file), blocks[0]));
}

// $CANNERY_ENGINE set to this build's engine for a scope, so that an example
// that leaves the program to the controller starts the right one.
class EngineProgramInEnvironment {
 public:
  EngineProgramInEnvironment() {
    if (const char* value = ::getenv("CANNERY_ENGINE")) before_ = value;
    ::setenv("CANNERY_ENGINE", test::engine_program().program.c_str(), 1);
  }
  ~EngineProgramInEnvironment() {
    if (before_) {
      ::setenv("CANNERY_ENGINE", before_->c_str(), 1);
    } else {
      ::unsetenv("CANNERY_ENGINE");
    }
  }
  EngineProgramInEnvironment(const EngineProgramInEnvironment&) = delete;
  EngineProgramInEnvironment& operator=(const EngineProgramInEnvironment&) = delete;

 private:
  std::optional<std::string> before_;
};

}  // namespace

TEST_CASE("controller.hpp: the example runs on spawned engines and gives what it says",
          "[cluster][docs]") {
  const EngineProgramInEnvironment program;
  Eigen::MatrixXd matrix = Eigen::MatrixXd::Identity(3, 3);

  cannery::Controller controller;  // key and connection file made for you
  controller.spawn_local_engines(2);
  controller.wait_for_engines(2, std::chrono::seconds(60));
  auto r = controller.apply(cannery::any_engine, "add", 1.0, 2.0);
  double sum = r.get<double>();                      // 3: add(double, double) -> double
  auto weights = controller.put(std::move(matrix));  // travels once per engine
  auto trace = controller.apply(cannery::any_engine, "trace_scaled", weights, 2.0);
  auto squares = controller.map("square", {}, std::vector{1.0, 2.0, 3.0});
  std::vector<double> values = squares.get<double>();  // 1, 4, 9

  CHECK(sum == 3.0);
  CHECK(trace.get<double>() == 6.0);
  CHECK(values == std::vector<double>{1.0, 4.0, 9.0});
  check_example_is_run_here("controller/include/cannery/controller/controller.hpp");
}

TEST_CASE("engine.hpp: the example serves a controller until it is shut down", "[cluster][docs]") {
  cannery::Controller controller;
  const std::filesystem::path connection_file = controller.connection_file();
  // The engine runs on a thread of its own, as the example's program would.
  // Its state is shared, not borrowed: a failed test leaves the thread behind.
  struct Outcome {
    std::exception_ptr failure;
  };
  auto outcome = std::make_shared<Outcome>();
  std::thread engine_thread([connection_file, outcome] {
    try {
      cannery::EngineOptions options;
      options.connection_file = connection_file;  // written by the controller
      cannery::Engine engine(options);
      cannery::register_builtin_functions(engine.functions());  // add, trace_scaled, ...
      engine.function("norm", [](Eigen::Ref<const Eigen::MatrixXd> m) { return m.norm(); });
      engine.run();  // until shutdown_request, stop(), or SIGTERM/SIGINT
    } catch (...) {
      outcome->failure = std::current_exception();
    }
  });
  // Only a registered engine can be told to stop; one that never registered
  // is left running, detached, when the test has failed anyway.
  bool registered = false;
  struct Stop {
    cannery::Controller& controller;
    std::thread& thread;
    const bool& registered;
    ~Stop() {
      if (!thread.joinable()) return;
      if (registered) {
        controller.shutdown_engines();
        thread.join();
      } else {
        thread.detach();
      }
    }
  } stop{controller, engine_thread, registered};

  controller.wait_for_engines(1, test::engine_start_timeout);
  registered = true;
  Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(4, 4);
  CHECK(controller.apply(any_engine, "norm", std::move(identity)).get<double>() == 2.0);
  CHECK(controller.apply(any_engine, "add", 1.0, 2.0).get<double>() == 3.0);
  controller.shutdown_engines();
  engine_thread.join();
  if (outcome->failure) std::rethrow_exception(outcome->failure);
  check_example_is_run_here("engine/include/cannery/engine/engine.hpp");
}

TEST_CASE("functions.hpp: the example runs a call without an engine", "[cluster][docs]") {
  Eigen::MatrixXd matrix(2, 2);
  matrix << 1, 2, 3, 4;

  // As in the header, whose narrower comment cannot hold the lambda on one line.
  // clang-format off
  cannery::FunctionRegistry functions;
  functions.function("trace_scaled", [](Eigen::Ref<const Eigen::MatrixXd> m, double s) {
    return m.trace() * s;
  });
  auto call = cannery::pack_apply_message("trace_scaled", matrix, 2.0);
  cannery::CannedObject result = functions.apply(call);  // 2 * trace(matrix), canned
  // clang-format on

  CHECK(cannery::uncan<double>(result) == 10.0);
  check_example_is_run_here("engine/include/cannery/engine/functions.hpp");
}

TEST_CASE("plugin.hpp: the example's entry point registers its type and function",
          "[cluster][docs]") {
  FunctionRegistry registry;
  CANNERY_PLUGIN_ENTRY(registry);
  CHECK(registry.names() == std::vector<std::string>{"energy"});
  const CannedObject energy =
      registry.apply(pack_apply_message("energy", mylib::Particle{2.0, 3.0}));
  CHECK(uncan<double>(energy) == 9.0);
  // register_type: a Particle inside a dynamic Object reads back as one.
  const Object particle = deserialize_object(serialize_object(mylib::Particle{1.0, 1.0})).value;
  CHECK(particle.as<mylib::Particle>().energy() == 0.5);

  const auto blocks = header_comment_blocks("engine/include/cannery/engine/plugin.hpp");
  REQUIRE(blocks.size() == 2);  // the plugin, and the command line that loads it
  CHECK(contains_lines(source_file(this_file), blocks[0]));
  CHECK(blocks[1] == "cannery-engine --connection-file c.json --plugin ./libmy_plugin.so\n");
}

TEST_CASE("shared_array.hpp: the example puts arrays made in shared memory without a copy",
          "[cluster][docs]") {
  test::Cluster cluster(1);
  cannery::Controller& controller = cluster.controller;

  std::vector<cannery::SharedArray<double>> weights;
  weights.emplace_back(1'000'000);  // zero-filled
  std::ranges::fill(weights.back().span(), 0.5);
  auto ref = controller.put(std::move(weights));  // nothing copied

  const auto echoed =
      controller.apply(any_engine, "echo", ref).get<std::vector<std::vector<double>>>();
  REQUIRE(echoed.size() == 1);
  CHECK(echoed[0] == std::vector<double>(1'000'000, 0.5));
  const ControllerStats stats = controller.stats();
  CHECK(stats.shared_memory_bytes == 0);  // nothing written to shared memory
  if (controller.engines().at(0).shared_memory) {
    CHECK(stats.shared_memory_in_place_bytes == 1'000'000 * sizeof(double));
  }
  check_example_is_run_here("messaging/include/cannery/messaging/shared_array.hpp");
}

TEST_CASE("builtins.hpp: the list names every built-in function and no other", "[cluster][docs]") {
  FunctionRegistry registry;
  register_builtin_functions(registry);
  const auto blocks = header_comment_blocks("engine/include/cannery/engine/builtins.hpp");
  REQUIRE(blocks.size() == 1);
  // "name(parameters) -> result   note": a name at the start of a line;
  // indented lines continue a note.
  std::vector<std::string> listed;
  std::istringstream lines(blocks[0]);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != ' ') listed.push_back(line.substr(0, line.find('(')));
  }
  std::sort(listed.begin(), listed.end());
  CHECK(listed == registry.names());
}

TEST_CASE("docs/engine.md: the program's usage and flags are cannery-engine's own",
          "[cluster][docs]") {
  test::TempDir dir;
  const std::filesystem::path output = dir.path() / "usage.txt";
  {
    test::Program help({"--help"}, output);
    REQUIRE(help.exit_status_within(std::chrono::seconds(10)) == 0);
  }
  std::ifstream in(output);
  std::stringstream printed;
  printed << in.rdbuf();
  // The synopsis: "usage: " up to the first empty line.
  const std::string text = printed.str();
  REQUIRE(text.starts_with("usage: "));
  const std::string synopsis = text.substr(7, text.find("\n\n") - 7);

  const std::string doc = source_file("docs/engine.md");
  const std::size_t section = doc.find("## The program");
  REQUIRE(section != std::string::npos);
  const std::size_t open = doc.find("```\n", section) + 4;
  const std::string block = doc.substr(open, doc.find("```", open) - open);
  CHECK(test::normalized_lines(block) == test::normalized_lines(synopsis));

  // Every flag the usage names has a row in the doc's table.
  for (std::size_t at = text.find("--"); at != std::string::npos; at = text.find("--", at + 2)) {
    const std::size_t end = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz-", at + 2);
    const std::string flag = text.substr(at, end - at);
    INFO(flag);
    CHECK(doc.find("| `" + flag) != std::string::npos);
  }
}
