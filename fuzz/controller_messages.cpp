// libFuzzer target: the controller's handling of what engines send
// (controller/src/core_engines.cpp and core_tasks.cpp: registration,
// apply_reply, batch_reply, anything else), run by a real cannery::Controller.
//
// Once per process the harness starts a Controller bound to ipc in a fresh
// temporary folder (heartbeat 1 h, so nobody is declared dead for silence)
// and plays one engine on a DEALER (routing id "engine-fuzz") that registers
// with uuid "fuzz-engine-uuid" by a valid registration_request (this
// protocol version, capability "batches"), made from the typed messages
// (messages.hpp) as the engine makes it. For each input:
//   1. two tasks are submitted with apply("echo", ...), F then S, and the
//      harness reads their requests (apply_request or batch_request parts)
//      from its DEALER, learning their task ids;
//   2. it sends the input as one signed message: frame 0 of the input
//      (fuzz_support.hpp framing) is the message type, frame 1 the content
//      dict (msgpack; {} when missing), the rest the buffers. In the content,
//      every "\xcfTASK_ID!" (a msgpack uint64 whose bytes spell TASK_ID!) is
//      replaced by F's task id, so that replies can name the task in flight;
//   3. it sends a valid apply_reply for S on the same connection and waits
//      for S to end: the controller handles one connection's messages in
//      order, so the input has been handled when S ends (or S failed because
//      the input re-registered the engine, which ends it too);
//   4. F, if still running, is answered validly and awaited; F's result (the
//      input's buffers, when the input answered F) is uncanned, as
//      AsyncResult::get does in a program.
// A controller that does not end S or F within 10 s, or whose I/O thread
// stopped on an error, is a crash (the input is saved); so is a message from
// the controller that an engine would refuse: everything it sends the
// harness (requests, batch_request parts, registration_reply,
// registration_refused, unknown_engine) must decode as its type.
//
// The controller keeps its state from one input to the next (engine ids,
// registrations, counters): a crash may need the inputs before it. Run the
// saved input alone first; it usually suffices, as each input is handled
// against a registered engine with two tasks in flight.
#include <stdlib.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>

#include "cannery/controller.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/protocol.hpp"
#include "envelope_support.hpp"

namespace {

using namespace cannery;
using namespace std::chrono_literals;
namespace proto = cannery::protocol;

constexpr std::string_view task_marker{
    "\xcf"
    "TASK_ID!",
    9};
constexpr auto patience = 10s;

// What the controller sends an engine on the work socket, alone; batch_request
// parts are work messages only.
using WorkMessages =
    proto::MessageTable<proto::ApplyRequest, proto::MapRequest, proto::PushRequest,
                        proto::PullRequest, proto::PutRequest, proto::ReleaseRequest>;
using ControlMessages = proto::MessageTable<proto::RegistrationReply, proto::RegistrationRefused,
                                            proto::UnknownEngine, proto::ShutdownRequest>;

// CANNERY_FUZZ_DEBUG=1 prints how each input ended its task (for reproducing).
const bool debug = std::getenv("CANNERY_FUZZ_DEBUG") != nullptr;

class Harness {
 public:
  Harness()
      : dir_(make_dir()),
        controller_(options(dir_, stopped_)),
        dealer_(context_, zmq::socket_type::dealer),
        session_(fuzz::session_options()) {
    dealer_.set(zmq::sockopt::linger, 0);
    dealer_.set(zmq::sockopt::routing_id, "engine-fuzz");
    dealer_.connect(controller_.endpoint());
    send(registration());
    // The answer: a registration_reply (of this protocol's major version).
    std::optional<Message> answer = session_.receive(dealer_, patience);
    if (!answer) fuzz::invariant_failed("the controller did not answer the harness's registration");
    if (answer->header.msg_type != proto::RegistrationReply::type) {
      fuzz::invariant_failed("the controller did not register the harness's engine",
                             answer->header.msg_type.c_str());
    }
    read_from_controller(*answer);
    try {
      controller_.wait_for_engines(1, patience);
    } catch (const error& e) {
      fuzz::invariant_failed("the controller did not take the harness's engine", e.what());
    }
  }
  ~Harness() {
    dealer_.close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void run(const std::vector<Buffer>& parts) {
    ApplyOptions no_retry;
    no_retry.timeout = 60s;  // a backstop: the checks below fire first
    AsyncResult f = controller_.apply_with(no_retry, any_engine, "echo", 1);
    AsyncResult s = controller_.apply_with(no_retry, any_engine, "echo", 2);
    std::vector<std::uint64_t> ids = receive_task_ids(2);
    std::sort(ids.begin(), ids.end());

    const std::string type(parts[0].as_string_view());
    std::string content = parts.size() > 1 ? std::string(parts[1].as_string_view()) : "\x80";
    for (std::size_t at = content.find(task_marker); at != std::string::npos;
         at = content.find(task_marker, at + task_marker.size())) {
      for (int i = 0; i < 8; ++i)
        content[at + 1 + i] = static_cast<char>((ids[0] >> (56 - 8 * i)) & 0xff);
    }
    std::vector<Buffer> buffers(parts.size() > 2 ? parts.begin() + 2 : parts.end(), parts.end());
    send_raw(type, Buffer::copy_of(content), std::move(buffers));

    reply_ok(ids[1]);
    if (!s.wait(patience)) fuzz::invariant_failed("the controller did not handle the input (hung)");
    check_alive();
    if (!f.ready()) {
      reply_ok(ids[0]);
      if (!f.wait(patience)) fuzz::invariant_failed("the controller did not end a task (hung)");
    }
    try {
      Object result = f.get(0ms);
      if (debug)
        std::fprintf(stderr, "controller_messages: F ended with a %s\n",
                     result.kind_name().c_str());
    } catch (const error& e) {
      if (debug) std::fprintf(stderr, "controller_messages: F failed: %s\n", e.what());
    }
    check_alive();
    // Whatever else came (registration replies, unknown_engine): read, then
    // dropped.
    while (std::optional<Message> m = session_.receive(dealer_, 0ms))
      read_from_controller(*m);
  }

 private:
  static std::filesystem::path make_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cannery-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fuzz::invariant_failed("mkdtemp failed");
    return pattern;
  }
  static ControllerOptions options(const std::filesystem::path& dir, std::atomic<bool>& stopped) {
    ControllerOptions o;
    o.endpoint = "ipc://" + (dir / "engines").string();
    o.connection_file = dir / "connection.json";
    o.key = fuzz::key;
    o.heartbeat = std::chrono::hours(1);
    o.wait_spin = 50us;
    o.log_sink = [&stopped](std::string_view line) {
      if (line.find("I/O thread stopped") != std::string_view::npos) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
        stopped.store(true);
      }
    };
    return o;
  }
  static proto::RegistrationRequest registration() {
    return proto::RegistrationRequest{.uuid = "fuzz-engine-uuid",
                                      .pid = ::getpid(),
                                      .hostname = "fuzz-host",
                                      .functions = {"echo"},
                                      .protocol = proto::to_string(proto::version),
                                      .capabilities = {std::string(proto::capability::batches)},
                                      .registrations = 0,
                                      .shared_memory = std::nullopt,
                                      .rank = std::nullopt,
                                      .data_endpoint = std::nullopt};
  }

  void check_alive() const {
    if (stopped_.load()) fuzz::invariant_failed("the controller's I/O thread stopped on an error");
  }

  template <proto::MessageType T>
  void send(const T& content, std::vector<Buffer> buffers = {}) {
    session_.send(dealer_, proto::make_message(session_, content, nullptr, std::move(buffers)));
  }

  // A message whose content frame is given as bytes, signed with the key.
  void send_raw(const std::string& type, Buffer content, std::vector<Buffer> buffers) {
    std::vector<Buffer> envelope = session_.serialize(session_.message(type));
    const std::array<Buffer, 4> dicts{envelope[2], envelope[3], envelope[4], std::move(content)};
    send_frames(dealer_, fuzz::signed_frames({}, dicts, buffers));
  }

  void reply_ok(std::uint64_t task) {
    proto::ApplyReply reply;
    reply.task = task;
    reply.engine_id = engine_id_;
    reply.status = proto::Status::ok;
    send(reply, can(nullptr).frames());
  }

  // Reads a message from the controller as an engine would: every one must
  // decode as its type. Returns the task ids of the apply_requests in it.
  std::vector<std::uint64_t> read_from_controller(Message& m) {
    std::vector<std::uint64_t> tasks;
    const std::string& type = m.header.msg_type;
    auto work = proto::overloaded{[&](const proto::ApplyRequest& r) { tasks.push_back(r.task); },
                                  [](const auto&) {}};
    try {
      if (type == proto::batch_request) {
        for (BatchPart& part : split_batch(m.content, proto::batch_requests_field, m.buffers)) {
          if (!WorkMessages::dispatch(part.type, part.content, work)) {
            throw error(errc::malformed_message,
                        "a batch_request part of type '" + part.type.substr(0, 64) + "'");
          }
        }
      } else if (!WorkMessages::dispatch(type, m.content, work) &&
                 !ControlMessages::dispatch(
                     type, m.content,
                     proto::overloaded{[&](const proto::RegistrationReply& reply) {
                                         if (auto why = proto::incompatibility(
                                                 reply.protocol, proto::version, "controller")) {
                                           throw error(errc::version_mismatch, *why);
                                         }
                                         engine_id_ = reply.engine_id;
                                       },
                                       [](const auto&) {}})) {
        throw error(errc::malformed_message, "a message of type '" + type.substr(0, 64) + "'");
      }
    } catch (const error& e) {
      check_alive();
      fuzz::invariant_failed("the controller sent what an engine refuses", e.what());
    }
    return tasks;
  }

  std::vector<std::uint64_t> receive_task_ids(std::size_t want) {
    std::vector<std::uint64_t> ids;
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (ids.size() < want) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      std::optional<Message> m = left.count() > 0 ? session_.receive(dealer_, left) : std::nullopt;
      if (!m) {
        check_alive();
        fuzz::invariant_failed("the controller sent no request for a submitted task (hung)");
      }
      const std::vector<std::uint64_t> tasks = read_from_controller(*m);
      ids.insert(ids.end(), tasks.begin(), tasks.end());
    }
    return ids;
  }

  std::filesystem::path dir_;
  std::atomic<bool> stopped_{false};
  Controller controller_;
  zmq::context_t context_{1};
  zmq::socket_t dealer_;
  Session session_;
  int engine_id_ = 0;  // as the last registration_reply said
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness harness;
  harness.run(fuzz::split_frames(data, size));
  return 0;
}
