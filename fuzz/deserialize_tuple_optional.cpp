// libFuzzer target: deserialize_object of std::tuple, std::pair and
// std::optional compositions (lists of fixed length, nil or a value), on the
// frames of the input (fuzz_support.hpp).
#include <complex>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "deserialize_typed.hpp"

namespace {
using Tuple = std::tuple<std::int64_t, std::string, std::optional<double>, std::vector<std::string>,
                         std::complex<double>, bool>;
using Optional = std::optional<std::vector<std::int32_t>>;
using Pair = std::pair<std::optional<std::string>, std::tuple<std::uint8_t, float>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<Tuple, Optional, Pair>(data, size);
}
