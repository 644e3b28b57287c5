// The weights exercise: 50 float64 arrays of 1,000,000 elements (400 MB)
// given to 20 tasks, first by value (sent with every task), then once per
// engine with put() and passed to the tasks by reference.

#include <cannery/controller.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Weights = std::map<std::string, std::vector<double>>;

namespace {

Weights make_weights() {
  Weights weights;
  for (int layer = 0; layer < 50; ++layer) {
    weights.emplace("layer" + std::to_string(layer), std::vector<double>(1'000'000, 1.0 / 64));
  }
  return weights;
}

double megabytes(std::uint64_t bytes) {
  return static_cast<double>(bytes) / 1e6;
}

// Runs 20 tasks of `sum_all` on `weights` (the map itself or an ObjectRef)
// and returns the seconds it took and the sum of their results.
template <class Argument>
std::pair<double, double> twenty_tasks(cannery::Controller& controller, const Argument& weights) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<cannery::AsyncResult> tasks;
  for (int i = 0; i < 20; ++i)
    tasks.push_back(controller.apply(cannery::any_engine, "sum_all", weights));
  double total = 0;
  for (auto& task : tasks)
    total += task.get<double>(120s);
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), total};
}

}  // namespace

int main() {
  cannery::Controller controller;
  controller.spawn_local_engines(2);
  controller.wait_for_engines(2, 30s);
  const Weights weights = make_weights();

  const auto sent_before = controller.bytes_sent();
  auto [by_value_seconds, by_value_total] = twenty_tasks(controller, weights);
  const auto by_value_bytes = controller.bytes_sent() - sent_before;
  std::cout << "by value:     " << by_value_seconds << " s, " << megabytes(by_value_bytes)
            << " MB sent, sum " << by_value_total << "\n";

  const auto put_before = controller.bytes_sent();
  const auto start = std::chrono::steady_clock::now();
  cannery::ObjectRef ref = controller.put(make_weights());
  auto [by_ref_seconds, by_ref_total] = twenty_tasks(controller, ref);
  const double with_put =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "by reference: " << with_put << " s including put (tasks " << by_ref_seconds
            << " s), " << megabytes(controller.bytes_sent() - put_before) << " MB sent, sum "
            << by_ref_total << "\n";
  return 0;
}
