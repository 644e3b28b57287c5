// The weights exercise: 50 float64 arrays of 1,000,000 elements (400 MB)
// given to 20 tasks, first by value (the controller puts them for the caller:
// once for these local engines, through shared memory), then put() by hand
// and passed to the tasks by reference, and last made as SharedArrays, which
// put() hands to these local engines without a copy.

#include <algorithm>
#include <cannery/controller.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

// std::vector<double> or cannery::SharedArray<double> layers.
template <class Array = std::vector<double>>
std::map<std::string, Array> make_weights() {
  std::map<std::string, Array> weights;
  for (int layer = 0; layer < 50; ++layer) {
    Array values(1'000'000);
    std::fill(values.begin(), values.end(), 1.0 / 64);
    weights.emplace("layer" + std::to_string(layer), std::move(values));
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

// put() of `weights`, then the 20 tasks on the reference; prints the times.
template <class Weights>
void by_reference(cannery::Controller& controller, const char* label, Weights weights) {
  const auto put_before = controller.bytes_sent();
  const auto start = std::chrono::steady_clock::now();
  cannery::ObjectRef ref = controller.put(std::move(weights));
  auto [tasks_seconds, total] = twenty_tasks(controller, ref);
  const double with_put =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << label << with_put << " s including put (tasks " << tasks_seconds << " s), "
            << megabytes(controller.bytes_sent() - put_before) << " MB sent, sum " << total << "\n";
}

}  // namespace

int main() {
  cannery::Controller controller;
  controller.spawn_local_engines(2);
  controller.wait_for_engines(2, 30s);
  const auto weights = make_weights();

  const auto sent_before = controller.bytes_sent();
  auto [by_value_seconds, by_value_total] = twenty_tasks(controller, weights);
  const auto by_value_bytes = controller.bytes_sent() - sent_before;
  std::cout << "by value:      " << by_value_seconds << " s, " << megabytes(by_value_bytes)
            << " MB sent, sum " << by_value_total << "\n";

  by_reference(controller, "by reference:  ", make_weights());
  by_reference(controller, "shared arrays: ", make_weights<cannery::SharedArray<double>>());
  return 0;
}
