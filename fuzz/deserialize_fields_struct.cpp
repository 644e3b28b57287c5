// libFuzzer target: deserialize_object<T> of a CANNERY_FIELDS struct whose
// fields cover the built-in kinds (a fixed-size Eigen vector, numbers, a
// string, an array, an optional, a dict and a nested struct), on the frames
// of the input (fuzz_support.hpp). fuzz/make_corpus.cpp writes the same struct.
#include "deserialize_typed.hpp"
#include "fuzz_types.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return cannery::fuzz::deserialize_typed<fuzzdemo::Particle, fuzzdemo::Point>(data, size);
}
