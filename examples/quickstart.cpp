// Quickstart: a controller starts 4 local engines, sends one message holding
// an Eigen matrix, a vector, a double, an integer and a string to every
// engine, runs a load-balanced map with a progress bar, and prints the
// results and how long each step took.

#include <Eigen/Core>
#include <cannery/controller.hpp>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Runs `step`, then prints how long it took.
template <class Step>
void timed(const char* what, Step&& step) {
  const auto start = std::chrono::steady_clock::now();
  step();
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  std::cout << "  [" << what << ": " << took.count() << " ms]\n\n";
}

}  // namespace

int main() {
  // Binds tcp on 127.0.0.1 with a free port, makes a random key and writes
  // both into a connection file (mode 0600) that engines read.
  cannery::Controller controller;
  std::cout << "connection file: " << controller.connection_file() << "\n\n";

  timed("start 4 engines", [&] {
    controller.spawn_local_engines(4);
    controller.wait_for_engines(4, 30s);
    for (const auto& engine : controller.engines()) {
      std::cout << "engine " << engine.id << " (pid " << engine.pid << ") is ready\n";
    }
  });

  Eigen::MatrixXd matrix = Eigen::MatrixXd::Random(500, 400);
  std::vector<double> samples(1'000'000);
  std::iota(samples.begin(), samples.end(), 0.0);

  timed("one message of five objects to every engine", [&] {
    // Each argument is canned once; every engine gets the same frames.
    auto replies = controller.broadcast("describe", std::move(matrix), std::move(samples), 2.5,
                                        std::int64_t{42}, std::string("hello, engines"));
    for (auto& reply : replies) {
      std::cout << "engine " << reply.engine_id() << ": " << reply.get<std::string>() << "\n";
    }
  });

  timed("map square over 2,000 numbers", [&] {
    std::vector<double> xs(2000);
    std::iota(xs.begin(), xs.end(), 1.0);
    cannery::MapOptions options;
    options.chunk_size = 50;
    auto squares = controller.map("square", options, xs);
    squares.wait_interactive();
    const auto ys = squares.get<double>();
    std::cout << "sum of squares of 1..2000 = " << std::accumulate(ys.begin(), ys.end(), 0.0)
              << "\n";
  });

  timed("one apply round trip", [&] {
    std::cout << "2 + 3 = " << controller.apply(cannery::any_engine, "add", 2.0, 3.0).get<double>()
              << "\n";
  });
  return 0;
}
