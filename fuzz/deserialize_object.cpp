// libFuzzer target: the dynamic deserialize_object (cannery::Object) on the
// frames of the input (fuzz_support.hpp), as a receiver that does not know
// the types loops over a message. Every object accepted is re-sent
// (serialize_object) and read back, and its kind name asked for.
#include "cannery/canning.hpp"
#include "deserialize_typed.hpp"
#include "fuzz_types.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Extension types a program may have registered: struct tags then uncan.
  cannery::register_type<fuzzdemo::Point>();
  cannery::register_type<fuzzdemo::Particle>();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cannery;
  const std::vector<Buffer> frames = fuzz::split_frames(data, size);
  std::span<const Buffer> rest = frames;
  for (int i = 0; i < fuzz::max_objects && !rest.empty(); ++i) {
    try {
      auto [object, remaining] = deserialize_object(rest, fuzz::limits());
      rest = remaining;
      (void)object.kind_name();
      std::vector<Buffer> again = serialize_object(object);
      try {
        (void)deserialize_object(again, fuzz::limits());
      } catch (const error& e) {
        fuzz::invariant_failed("an accepted Object could not be read back once re-sent", e.what());
      }
    } catch (const error&) {
      break;
    }
  }
  return 0;
}
