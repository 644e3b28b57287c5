// libFuzzer target: deserialize_object<std::string> (and std::string_view, a
// view of the header frame) on the frames of the input (fuzz_support.hpp).
#include <string>
#include <string_view>

#include "deserialize_typed.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<std::string, std::string_view, std::vector<std::string>>(
      data, size);
}
