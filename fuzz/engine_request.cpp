// libFuzzer target: the engine's request handling, detail::RequestHandler
// (cannery/engine/detail/request_handler.hpp), against the built-in functions
// (register_builtin_functions), behind a valid signature, driven as the
// engine's loop (engine/src/engine.cpp, Engine::Loop) drives it.
//
// Input (fuzz_support.hpp framing): frame 0 is the message type (e.g.
// "apply_request", "batch_request"), frame 1 the content dict (msgpack;
// {} when missing), the rest the buffers. The harness makes a fresh header,
// signs the four dicts with the engine's key and receives the message with
// the engine's Session::deserialize; then, as the engine's loop does:
//   - a work message (detail::WorkMessages: apply, map, push, pull, put,
//     release) goes to RequestHandler::handle(type, content, buffers);
//   - a batch_request is cut with split_batch and each part whose type is a
//     work message is handled in order (so put then apply with a ref, or push
//     then pull, happen within one input); other parts are skipped;
//   - any other type is decoded as the loop's control messages
//     (registration_reply, registration_refused, unknown_engine,
//     shutdown_request), the registration_reply's protocol and heart
//     endpoint read as the loop reads them.
// Replies go out as the engine sends them, signed, the request as parent: an
// apply_reply made by make_message, or one batch_reply (BatchBuilder) for a
// batch. The harness then receives each on the controller's side and reads
// it as the controller does (Session::deserialize, decode<ApplyReply>, or
// split_batch and decode of every part). A fresh handler per input: nothing
// cached carries over from one input to the next.
//
// Shared memory (shared_segment.hpp): once per process the harness stores a
// 1040-byte frame in a segment of its own; every string "FUZZ_SEGMENT" in
// the received content becomes that segment's name, so that descriptors
// (shared_memory: [{segment, size, frames: [{index, offset, length}]}]) get
// past the name and reach restore_shared_frames and the frames it maps.
//
// Inputs that name the built-in "sleep_ms" are skipped (return -1): it
// sleeps as long as it is asked, by design.
//
// Invariants (a broken one aborts with "INVARIANT BROKEN"):
//   - RequestHandler::handle lets no exception out: it answers or refuses
//     every request (the loop's guard is only for running out of memory);
//   - only requests with a task (apply, map, push, pull) are answered, and a
//     reply carries the task id of its request;
//   - an error reply names the function, ename and evalue, and carries no
//     buffers; ename names a cannery::error ("cannery.<errc>", a code
//     errc_from_string knows) unless the function raised on purpose ("fail",
//     a std::runtime_error): any other exception type means the library let
//     something else than cannery::error out on hostile bytes;
//   - an ok reply carries no error fields and exactly one canned object;
//   - what the engine sends, the controller's session and codec accept, with
//     the same task and status.
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "cannery/engine/builtins.hpp"
#include "cannery/engine/detail/request_handler.hpp"
#include "cannery/engine/errors.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/heart.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/protocol.hpp"
#include "cannery/messaging/shared_memory.hpp"
#include "envelope_support.hpp"
#include "shared_segment.hpp"

namespace {

using namespace cannery;
namespace proto = cannery::protocol;

// The requests that get an apply_reply (put and release never do).
using AnsweredRequests = proto::MessageTable<proto::ApplyRequest, proto::MapRequest,
                                             proto::PushRequest, proto::PullRequest>;

// What the engine's loop reads on its work socket besides work messages and
// batches (engine.cpp, ControlMessages).
using ControlMessages = proto::MessageTable<proto::RegistrationReply, proto::RegistrationRefused,
                                            proto::UnknownEngine, proto::ShutdownRequest>;

// Only the task id of a request: the one its reply must carry.
struct TaskOnly {
  std::uint64_t task = 0;
  static constexpr auto fields() { return std::tuple{proto::field("task", &TaskOnly::task)}; }
};

// The engine id the harness's replies carry (the loop's, once registered).
constexpr int engine_id = 0;

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

// The harness's segment's name; nullopt when this host cannot make one
// (descriptors naming the marker are then refused, as foreign names are).
const std::optional<std::string>& segment_name() {
  static const std::optional<SharedSegment> segment = []() -> std::optional<SharedSegment> {
    try {
      return SharedSegment::store(fuzz::segment_frames(), fuzz::segment_min_frame);
    } catch (const error& e) {
      std::fprintf(stderr, "engine_request: no shared memory segment (%s)\n", e.what());
      return std::nullopt;
    }
  }();
  static const std::optional<std::string> name =
      segment ? std::optional<std::string>(segment->name()) : std::nullopt;
  return name;
}

// Every string in `value` that is the marker becomes the segment's name.
void name_segment(Object& value, const std::string& name) {
  switch (value.kind()) {
    case Object::Kind::string:
      if (value.to_string() == fuzz::segment_marker) value = Object(name);
      break;
    case Object::Kind::list:
      for (Object& item : value.to_list())
        name_segment(item, name);
      break;
    case Object::Kind::dict:
      for (auto& [key, item] : value.to_dict())
        name_segment(item, name);
      break;
    default:
      break;
  }
}

std::string text_of(const std::optional<std::string>& s) {
  return s ? *s : std::string("(none)");
}

// The engine loop's run_request, with its guard turned into an invariant.
std::optional<detail::Reply> run_request(detail::RequestHandler& handler, std::string_view type,
                                         const Object& content, std::vector<Buffer>& buffers) {
  try {
    return handler.handle(type, content, buffers);
  } catch (...) {
    const ErrorDescription d = describe_current_exception();
    const std::string detail = std::string(type.substr(0, 64)) + ": " + d.ename + ": " + d.evalue;
    fuzz::invariant_failed("RequestHandler::handle let an exception out", detail.c_str());
  }
}

void check_reply(std::string_view type, const Object& content, const detail::Reply& reply) {
  const proto::ApplyReply& r = reply.content;
  if (debug) {
    std::fprintf(stderr,
                 "engine_request: reply to a %.*s: task=%llu status=%s function=%s ename=%s "
                 "evalue=%s (%zu frames)\n",
                 static_cast<int>(type.size()), type.data(),
                 static_cast<unsigned long long>(r.task),
                 r.status == proto::Status::ok ? "ok" : "error", text_of(r.function).c_str(),
                 text_of(r.ename).c_str(), text_of(r.evalue).c_str(), reply.buffers.size());
  }
  if (!AnsweredRequests::contains(type)) {
    fuzz::invariant_failed("a reply to a request that gets none", std::string(type).c_str());
  }
  std::optional<TaskOnly> asked;
  try {
    asked = proto::decode<TaskOnly>(content, type);
  } catch (const error&) {
  }
  if (!asked || asked->task != r.task) {
    const std::string detail = "replied for task " + std::to_string(r.task) + ", asked " +
                               (asked ? std::to_string(asked->task) : std::string("none"));
    fuzz::invariant_failed("a reply that does not carry its request's task", detail.c_str());
  }
  if (r.status == proto::Status::ok) {
    if (r.ename || r.evalue) fuzz::invariant_failed("an ok reply with an error's fields");
    try {
      const PeekedObject result = peek_object(reply.buffers, fuzz::limits());
      if (!result.remaining.empty()) {
        fuzz::invariant_failed("an ok reply with more than one canned object");
      }
    } catch (const error& e) {
      fuzz::invariant_failed("an ok reply whose result is not a canned object", e.what());
    }
    return;
  }
  if (!r.function || !r.ename || !r.evalue) {
    fuzz::invariant_failed("an error reply without function, ename and evalue");
  }
  if (!reply.buffers.empty()) fuzz::invariant_failed("an error reply with buffers");
  const std::string& ename = *r.ename;
  const bool cannery_error = ename.rfind("cannery.", 0) == 0 &&
                             errc_from_string(std::string_view(ename).substr(8)).has_value();
  const bool raised_on_purpose = *r.function == "fail" && ename == "std::runtime_error";
  if (!cannery_error && !raised_on_purpose) {
    const std::string detail = ename + " in '" + *r.function + "': " + *r.evalue;
    fuzz::invariant_failed(
        "hostile input made the library throw something else than "
        "cannery::error",
        detail.c_str());
  }
}

// The controller's side of the connection: reads what the engine sent as
// core_engines.cpp / core_tasks.cpp read it; `sent` are the replies in order.
void controller_reads(Session& controller, std::vector<Buffer> frames,
                      const std::vector<proto::ApplyReply>& sent) {
  std::vector<proto::ApplyReply> got;
  try {
    Message m = controller.deserialize(std::move(frames));
    if (m.header.msg_type == proto::batch_reply) {
      for (const BatchPart& part : split_batch(m.content, proto::batch_replies_field, m.buffers)) {
        got.push_back(proto::decode<proto::ApplyReply>(part.content));
      }
    } else {
      got.push_back(proto::decode<proto::ApplyReply>(m));
    }
  } catch (const error& e) {
    fuzz::invariant_failed("the controller refused what the engine sent", e.what());
  }
  if (got.size() != sent.size()) fuzz::invariant_failed("the controller read other replies");
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i].task != sent[i].task || got[i].status != sent[i].status ||
        got[i].engine_id != sent[i].engine_id || got[i].ename != sent[i].ename) {
      fuzz::invariant_failed("the controller read other replies than the engine sent");
    }
  }
}

// What the loop does with a control message: decoded (refused when it does
// not fit), a registration_reply's version and heart endpoint looked at.
void read_control(const std::string& type, const Object& content) {
  try {
    ControlMessages::dispatch(
        type, content,
        proto::overloaded{
            [](const proto::RegistrationReply& reply) {
              (void)proto::incompatibility(reply.protocol, proto::version, "the controller");
              (void)heart_connect_endpoint("tcp://127.0.0.1:5555", reply.heartbeat_endpoint);
            },
            [](const auto&) {}});
  } catch (const error&) {
    // Refused, as the loop refuses it.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (fuzz::contains(data, size, "sleep_ms")) return -1;
  static Session controller(fuzz::session_options());  // the controller's side
  static Session engine(fuzz::session_options());      // the engine's side

  std::vector<Buffer> parts = fuzz::split_frames(data, size);
  const std::string type(parts[0].as_string_view());
  // A fresh header (so no signature repeats), the fuzzed content.
  std::vector<Buffer> envelope = controller.serialize(controller.message(type));
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
  if (segment_name()) name_segment(request.content, *segment_name());

  static RefusalLog refusals([](std::string_view) {});  // counted, not printed
  detail::RequestHandler handler(functions(), fuzz::limits(), refusals);
  const std::string& msg_type = request.header.msg_type;
  if (msg_type == proto::batch_request) {
    std::vector<BatchPart> batch;
    try {
      batch = split_batch(request.content, proto::batch_requests_field, request.buffers);
    } catch (const error&) {
      return 0;  // refused, as the loop refuses it
    }
    BatchBuilder replies;
    std::vector<proto::ApplyReply> sent;
    std::vector<Buffer> part_buffers;
    for (BatchPart& part : batch) {
      if (!detail::WorkMessages::contains(part.type)) continue;  // skipped, as the loop does
      part_buffers.assign(std::make_move_iterator(part.buffers.begin()),
                          std::make_move_iterator(part.buffers.end()));
      if (std::optional<detail::Reply> reply =
              run_request(handler, part.type, part.content, part_buffers)) {
        check_reply(part.type, part.content, *reply);
        reply->content.engine_id = engine_id;
        replies.add(reply->content, reply->buffers);
        sent.push_back(reply->content);
      }
    }
    part_buffers = {};
    if (replies.parts() == 0) return 0;
    Message out = engine.message(
        proto::batch_reply, Object(replies.take_content(proto::batch_replies_field)), &request);
    out.buffers = replies.take_buffers();
    controller_reads(controller, engine.serialize(std::move(out)), sent);
  } else if (detail::WorkMessages::contains(msg_type)) {
    if (std::optional<detail::Reply> reply =
            run_request(handler, msg_type, request.content, request.buffers)) {
      check_reply(msg_type, request.content, *reply);
      reply->content.engine_id = engine_id;
      const std::vector<proto::ApplyReply> sent{reply->content};
      Message out =
          proto::make_message(engine, reply->content, &request, std::move(reply->buffers));
      controller_reads(controller, engine.serialize(std::move(out)), sent);
    }
  } else {
    read_control(msg_type, request.content);
  }
  return 0;
}
