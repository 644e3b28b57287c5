// libFuzzer target: Session::deserialize (verify, then parse) on frames that
// are all the input's (fuzz_support.hpp), signature included: a session with
// a key refuses nearly every input at the signature, which is the point (the
// delimiter search, frame counts and the constant-time comparison before it).
#include "envelope_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cannery;
  static Session session(fuzz::session_options());
  std::vector<Buffer> frames = fuzz::split_frames(data, size);
  try {
    (void)session.deserialize(std::move(frames));
  } catch (const error&) {
  }
  return 0;
}
