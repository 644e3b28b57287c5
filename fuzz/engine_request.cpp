// libFuzzer target: the engine's request handling, detail::RequestHandler
// (engine/src/request_handler.hpp), against the built-in functions
// (register_builtin_functions), behind a valid signature.
//
// Input (fuzz_support.hpp framing): frame 0 is the message type (e.g.
// "apply_request", "batch_request"), frame 1 the content dict (msgpack;
// {} when missing), the rest the buffers. The harness makes a fresh header,
// signs the four dicts with the engine's key and receives the message with
// the engine's Session::deserialize; then, as the engine's loop does, a work
// request goes to RequestHandler::handle, and a batch_request is cut with
// split_batch and each work part handled in order (so put then apply with a
// ref, or push then pull, happen within one input). Every reply is signed
// and serialized as the engine would send it. A fresh handler per input:
// nothing cached carries over from one input to the next.
//
// Inputs that name the built-in "sleep_ms" are skipped (return -1): it
// sleeps as long as it is asked, by design.
//
// Invariant: an error reply names a cannery::error ("cannery.<errc>") unless
// the function raised on purpose ("fail"): any other exception type means
// the library let something else than cannery::error out on hostile bytes.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cannery/engine/builtins.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/protocol.hpp"
#include "envelope_support.hpp"
#include "request_handler.hpp"

namespace {

using namespace cannery;
namespace proto = cannery::protocol;

bool is_work(std::string_view type) {
  return type == proto::apply_request || type == proto::map_request ||
         type == proto::push_request || type == proto::pull_request || type == proto::put_request ||
         type == proto::release_request;
}

const FunctionRegistry& functions() {
  static const FunctionRegistry registry = [] {
    FunctionRegistry r;
    register_builtin_functions(r);
    return r;
  }();
  return registry;
}

// CANNERY_FUZZ_DEBUG=1 prints each reply (for reproducing a finding).
const bool debug = std::getenv("CANNERY_FUZZ_DEBUG") != nullptr;

void check_reply(const detail::Reply& reply) {
  if (debug) {
    std::fprintf(stderr, "engine_request: reply:");
    for (const auto& [key, value] : reply.content) {
      std::fprintf(stderr, " %s=%s", key.c_str(),
                   value.kind() == Object::Kind::string ? value.to_string().c_str()
                                                        : value.kind_name().c_str());
    }
    std::fprintf(stderr, " (%zu frames)\n", reply.buffers.size());
  }
  auto status = reply.content.find(proto::status);
  if (status == reply.content.end() || status->second.kind() != Object::Kind::string) {
    fuzz::invariant_failed("a reply without a status");
  }
  if (status->second.to_string() != proto::status_error) return;
  const std::string& ename = reply.content.at(std::string(proto::ename)).to_string();
  const std::string& function = reply.content.at(std::string(proto::function)).to_string();
  if (ename.rfind("cannery.", 0) != 0 && function != "fail") {
    const std::string& evalue = reply.content.at(std::string(proto::evalue)).to_string();
    const std::string detail = ename + " in '" + function + "': " + evalue;
    fuzz::invariant_failed(
        "hostile input made the library throw something else than "
        "cannery::error",
        detail.c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (fuzz::contains(data, size, "sleep_ms")) return -1;
  static Session peer(fuzz::session_options());    // the controller's side
  static Session engine(fuzz::session_options());  // the engine's side

  std::vector<Buffer> parts = fuzz::split_frames(data, size);
  const std::string type(parts[0].as_string_view());
  // A fresh header (so no signature repeats), the fuzzed content.
  std::vector<Buffer> envelope = peer.serialize(peer.message(type));
  const std::size_t first_dict = 2;  // after the delimiter and the signature
  std::array<Buffer, 4> dicts{envelope[first_dict], envelope[first_dict + 1],
                              envelope[first_dict + 2],
                              parts.size() > 1 ? parts[1] : Buffer::copy_of("\x80")};
  const std::span<const Buffer> buffers =
      parts.size() > 2 ? std::span<const Buffer>(parts).subspan(2) : std::span<const Buffer>();
  std::vector<Buffer> frames = fuzz::signed_frames({}, dicts, buffers);

  Message request;
  try {
    request = engine.deserialize(std::move(frames));
  } catch (const error&) {
    return 0;  // refused by the session (malformed content, ...)
  }

  static RefusalLog refusals([](std::string_view) {});  // counted, not printed
  detail::RequestHandler handler(functions(), Limits{}, refusals);
  std::vector<detail::Reply> replies;
  auto run = [&](Message& m) {
    // The engine loop's own guard (engine.cpp run_request): only running out
    // of memory gets out of the handler.
    if (std::optional<detail::Reply> reply = handler.handle(m)) {
      check_reply(*reply);
      replies.push_back(std::move(*reply));
    }
  };
  const std::string& msg_type = request.header.msg_type;
  if (is_work(msg_type)) {
    run(request);
  } else if (msg_type == proto::batch_request) {
    std::vector<BatchPart> batch;
    try {
      batch = split_batch(request.content, proto::requests, request.buffers);
    } catch (const error&) {
      return 0;
    }
    Message part_request;
    part_request.header = request.header;
    for (BatchPart& part : batch) {
      const Object* part_type = part.content.find(proto::type);
      if (part_type == nullptr || part_type->kind() != Object::Kind::string ||
          !is_work(part_type->to_string())) {
        continue;
      }
      part_request.header.msg_type = part_type->to_string();
      part_request.content = std::move(part.content);
      part_request.buffers.assign(std::make_move_iterator(part.buffers.begin()),
                                  std::make_move_iterator(part.buffers.end()));
      run(part_request);
    }
  }
  // Sent as the engine sends them: signed, the request as parent.
  for (detail::Reply& reply : replies) {
    reply.content[std::string(proto::engine_id)] = 0;
    Message out = engine.message(proto::apply_reply, Object(std::move(reply.content)), &request);
    out.buffers = std::move(reply.buffers);
    (void)engine.serialize(std::move(out));
  }
  return 0;
}
