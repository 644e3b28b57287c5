// libFuzzer target: unpack_apply_message / ApplyMessage on the frames of the
// input (fuzz_support.hpp): the ["cannery.apply", {...}] header, then every
// positional and keyword argument it announces, read progressively (each
// argument's tag looked at with peek_object, then uncanned as an Object; a
// ["cannery.ref", id] argument as the RefArgument it is).
#include "cannery/canning.hpp"
#include "cannery/messaging/protocol.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cannery;
  const std::vector<Buffer> frames = fuzz::split_frames(data, size);
  try {
    ApplyMessage call = unpack_apply_message(frames, fuzz::limits());
    (void)call.function();
    // Each read consumes at least one frame, so this ends.
    while (call.args_read() < call.nargs() && !call.remaining().empty()) {
      PeekedObject peeked = peek_object(call.remaining(), call.limits());
      if (peeked.tag == "cannery.ref") {
        (void)call.next_arg<protocol::RefArgument>();
      } else {
        (void)call.next_arg<Object>();
      }
    }
    while (call.kwargs_read() < call.kwarg_names().size() && !call.remaining().empty())
      (void)call.next_kwarg<Object>();
  } catch (const error&) {
  }
  return 0;
}
