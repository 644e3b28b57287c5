// libFuzzer target: Session::deserialize behind a valid signature. The
// input is one flags byte, then frames (fuzz_support.hpp): header,
// parent_header, metadata, content (missing ones are {}), then buffers. The
// harness signs the four dicts with the session's key, so the parsing behind
// the signature is reached: header fields, the plain-msgpack dicts, buffer
// digests, realignment.
//
// Flags: bit 0: the receiving session requires buffer digests; bit 1: one
// routing id frame comes first (as on a ROUTER); bit 2: the same frames are
// received twice, and the second time must be refused as a replay.
//
// Every message accepted is serialized again by a session with the same key
// and must be accepted by a fresh receiver.
#include "envelope_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace cannery;
  if (size == 0) return -1;
  const std::uint8_t flags = data[0];
  std::vector<Buffer> parts = fuzz::split_frames(data + 1, size - 1);
  std::array<Buffer, 4> dicts;
  for (std::size_t i = 0; i < dicts.size(); ++i)
    dicts[i] = i < parts.size() ? parts[i] : Buffer::copy_of("\x80");
  const std::span<const Buffer> buffers =
      parts.size() > 4 ? std::span<const Buffer>(parts).subspan(4) : std::span<const Buffer>();
  std::vector<Buffer> identities;
  if ((flags & 2) != 0) identities.push_back(Buffer::copy_of("engine-fuzz"));
  const std::vector<Buffer> frames = fuzz::signed_frames(identities, dicts, buffers);

  SessionOptions options = fuzz::session_options();
  options.buffer_digests = (flags & 1) != 0;
  options.replay_history = 16;
  Session session(options);  // fresh: no replay history across inputs
  Message message;
  try {
    message = session.deserialize(std::span<const Buffer>(frames));
  } catch (const error& e) {
    if (e.code() == errc::signature_mismatch || e.code() == errc::signature_missing ||
        e.code() == errc::replayed_message) {
      fuzz::invariant_failed("a correctly signed, first-seen message was refused at the signature",
                             e.what());
    }
    return 0;
  }
  if ((flags & 4) != 0) {
    try {
      (void)session.deserialize(std::span<const Buffer>(frames));
      fuzz::invariant_failed("the same signed frames were accepted twice (replay)");
    } catch (const error& e) {
      if (e.code() != errc::replayed_message)
        fuzz::invariant_failed("a replay was refused for another reason", e.what());
    }
  }
  // Re-sent as it was read: a receiver must accept it.
  SessionOptions resend_options = fuzz::session_options();
  resend_options.buffer_digests = options.buffer_digests;
  resend_options.replay_history = 16;
  Session sender(resend_options);
  std::vector<Buffer> again;
  try {
    again = sender.serialize(message);
  } catch (const error& e) {
    fuzz::invariant_failed("an accepted message could not be serialized again", e.what());
  }
  Session receiver(resend_options);
  try {
    (void)receiver.deserialize(std::move(again));
  } catch (const error& e) {
    fuzz::invariant_failed("an accepted message, re-sent, was refused", e.what());
  }
  return 0;
}
