// libFuzzer target: deserialize_object<std::map<std::string,
// std::vector<std::int64_t>>> (dicts of arrays, each array inlined or in a
// frame of its own) on the frames of the input (fuzz_support.hpp).
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "deserialize_typed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<
      std::map<std::string, std::vector<std::int64_t>>,
      std::unordered_map<std::string, std::vector<std::int32_t>>>(data, size);
}
