// libFuzzer target: deserialize_object<std::vector<double>> (and the in-place
// view std::span<const double>) on the frames of the input (fuzz_support.hpp).
#include <span>
#include <vector>

#include "deserialize_typed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<std::vector<double>, std::span<const double>>(data, size);
}
