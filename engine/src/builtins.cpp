#include "cannery/engine/builtins.hpp"

#include <unistd.h>
#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "cannery/canning.hpp"

namespace cannery {

namespace {

double sum_of(std::span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

// Every element of a float64 array of any shape and strides, read in place.
double sum_of(const NDArray& array) {
  const double* first = array.data_as<double>();
  if (array.is_c_contiguous()) return sum_of(std::span<const double>(first, array.size()));
  const NDArray packed = array.contiguous();
  return sum_of(std::span<const double>(packed.data_as<double>(), packed.size()));
}

std::string describe(Eigen::Ref<const Eigen::MatrixXd> m, std::span<const double> v, double x,
                     std::int64_t n, const std::string& label) {
  std::ostringstream out;
  out << "matrix " << m.rows() << "x" << m.cols() << " (trace " << m.trace() << "), vector of "
      << v.size() << " (sum " << sum_of(v) << "), x=" << x << ", n=" << n << ", label='" << label
      << "'";
  return out.str();
}

}  // namespace

void register_builtin_functions(FunctionRegistry& registry) {
  registry.function("echo", [](Object value) { return value; });
  registry.function("add", [](double a, double b) { return a + b; });
  registry.function("square", [](double x) { return x * x; });
  // The small task of the benchmarks: [int64, str, float, 16 doubles] in, an int64 out.
  registry.function("small_task", [](std::int64_t id, const std::string& name, double value,
                                     std::span<const double> samples) {
    // Any received numbers: an out-of-range sum is an error, not undefined
    // behaviour (a double beyond int64, or a signed overflow).
    const double total = std::trunc(value + sum_of(samples));
    std::int64_t result = 0;
    if (!(std::abs(total) < 0x1p63) ||
        __builtin_add_overflow(id, static_cast<std::int64_t>(name.size()), &result) ||
        __builtin_add_overflow(result, static_cast<std::int64_t>(total), &result)) {
      throw error(errc::invalid_argument, "small_task: the result does not fit in an int64");
    }
    return result;
  });
  registry.function("sum", [](std::span<const double> values) { return sum_of(values); });
  registry.function("ramp", [](std::int64_t n) {
    if (n < 0) throw error(errc::invalid_argument, "ramp(n) needs n >= 0");
    std::vector<double> values(static_cast<std::size_t>(n));
    std::iota(values.begin(), values.end(), 0.0);
    return values;
  });
  registry.function("trace_scaled", [](Eigen::Ref<const Eigen::MatrixXd> m, double scale) {
    return m.trace() * scale;
  });
  registry.function("describe", &describe);
  registry.function("nbytes",
                    [](const NDArray& array) { return static_cast<std::int64_t>(array.nbytes()); });
  // Bytes of every array of a dict, read from their headers: the benchmarks'
  // task that moves weights without computing on them.
  registry.function("nbytes_all", [](const std::map<std::string, NDArray>& arrays) {
    std::int64_t total = 0;
    for (const auto& [name, array] : arrays)
      total += static_cast<std::int64_t>(array.nbytes());
    return total;
  });
  registry.function("sum_all", [](const std::map<std::string, NDArray>& arrays) {
    double total = 0;
    for (const auto& [name, array] : arrays)
      total += sum_of(array);
    return total;
  });
  registry.function("pid", [] { return static_cast<std::int64_t>(::getpid()); });
  registry.function("sleep_ms", [](std::int64_t ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return static_cast<std::int64_t>(::getpid());
  });
  registry.function("fail",
                    [](const std::string& message) -> void { throw std::runtime_error(message); });
}

}  // namespace cannery
