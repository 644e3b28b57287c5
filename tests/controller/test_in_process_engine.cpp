// The in-process engine the controller tests run (in_process_engine.hpp), and
// a check that it speaks the protocol to a bare ROUTER.
#include <numeric>
#include "in_process_engine.hpp"

#include <pthread.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include <cannery/canning.hpp>
#include <cannery/engine/builtins.hpp>
#include <cannery/messaging/batch.hpp>
#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/frames.hpp>
#include <cannery/messaging/heart.hpp>

#include "test_support.hpp"

namespace cannery::test {
namespace {

namespace proto = cannery::protocol;

std::atomic<int> made_up_pids{90000};

SessionOptions session_options(const ConnectionInfo& info) {
  SessionOptions s;
  s.key = info.key;
  s.insecure = info.key.empty();
  s.username = "in-process-engine";
  s.log_sink = [](std::string_view) {};  // the insecure warning is expected in tests
  return s;
}

using ControlMessages = proto::MessageTable<proto::RegistrationReply, proto::RegistrationRefused,
                                            proto::UnknownEngine, proto::ShutdownRequest>;

}  // namespace

InProcessEngine::InProcessEngine(const ConnectionInfo& info, InProcessEngineOptions options)
    : info_(info),
      options_(std::move(options)),
      session_(session_options(info)),
      refusals_([](std::string_view) {}) {
  if (options_.uuid.empty()) options_.uuid = new_session_id();
  if (options_.pid == 0) options_.pid = made_up_pids.fetch_add(1);
  register_functions();
  handler_.emplace(functions_, Limits{}, refusals_);
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "test-engine");
}

InProcessEngine::~InProcessEngine() {
  die();
}

void InProcessEngine::die() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void InProcessEngine::register_functions() {
  register_builtin_functions(functions_);
  // Called by the handler on the engine's thread, which reads what they set
  // once the request is handled.
  functions_.function("whoami", [this] { return options_.uuid; });
  functions_.function("which_engine", [this](double) { return options_.uuid; });
  functions_.function("hold", [this] {
    hold_reply_ = true;
    return options_.uuid;
  });
  functions_.function("hold_sum", [this](std::span<const double> values) {
    hold_reply_ = true;
    return std::accumulate(values.begin(), values.end(), 0.0);
  });
  functions_.function("reply_after_ms", [this](double ms) {
    reply_delay_ = std::max(reply_delay_, std::chrono::milliseconds(static_cast<long>(ms)));
    return ms;
  });
}

int InProcessEngine::wait_registered(std::chrono::milliseconds timeout) {
  wait_until([&] { return engine_id_.load() >= 0; }, timeout);
  return engine_id_.load();
}

std::size_t InProcessEngine::held() const {
  std::lock_guard lock(mutex_);
  return held_count_;
}
std::size_t InProcessEngine::max_held() const {
  std::lock_guard lock(mutex_);
  return max_held_;
}
std::size_t InProcessEngine::count(std::string_view msg_type) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(msg_type);
  return it == counts_.end() ? 0 : it->second;
}
std::uint64_t InProcessEngine::put_bytes() const {
  std::lock_guard lock(mutex_);
  return put_bytes_;
}
std::vector<std::uint64_t> InProcessEngine::released_refs() const {
  std::lock_guard lock(mutex_);
  return released_refs_;
}
std::vector<std::uint64_t> InProcessEngine::map_counts() const {
  std::lock_guard lock(mutex_);
  return map_counts_;
}
std::vector<std::string> InProcessEngine::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

void InProcessEngine::send_registration(zmq::socket_t& socket) {
  proto::RegistrationRequest request;
  request.uuid = options_.uuid;
  request.pid = options_.pid;
  request.hostname = options_.hostname;
  request.functions = functions_.names();
  request.protocol = options_.protocol;
  request.capabilities = options_.capabilities;
  request.registrations = count(proto::RegistrationReply::type);
  session_.send(socket, proto::make_message(session_, request));
}

std::optional<zmq::socket_t> InProcessEngine::connect_heart(zmq::context_t& context) {
  heart_changed_ = false;
  if (heart_endpoint_.empty()) return std::nullopt;
  zmq::socket_t heart(context, zmq::socket_type::dealer);
  heart.set(zmq::sockopt::linger, 0);
  heart.set(zmq::sockopt::immediate, 1);
  heart.set(zmq::sockopt::routing_id, std::string(proto::engine_routing_prefix) + options_.uuid);
  if (options_.curve_client) {
    make_curve_client(heart, *options_.curve_client, info_.curve_server_public_key);
  }
  const std::string& work = info_.endpoints.at(std::string(proto::engines_endpoint));
  heart.connect(heart_connect_endpoint(work, heart_endpoint_));
  return heart;
}

void InProcessEngine::run() {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  // A DEALER with no connected peer blocks on send: give up instead.
  socket.set(zmq::sockopt::sndtimeo, 100);
  socket.set(zmq::sockopt::routing_id, std::string(proto::engine_routing_prefix) + options_.uuid);
  if (options_.curve_client) {
    make_curve_client(socket, *options_.curve_client, info_.curve_server_public_key);
  }
  socket.connect(info_.endpoints.at(std::string(proto::engines_endpoint)));
  send_registration(socket);
  std::optional<zmq::socket_t> heart;
  auto next_heartbeat = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    if (auto m = session_.receive(socket, 2ms)) {
      handle(socket, *m);
      while (auto more = session_.receive(socket, 0ms))
        handle(socket, *more);
    }
    if (heart_changed_) heart = connect_heart(context);
    while (heart) {
      auto answer = session_.receive(*heart, 0ms);
      if (!answer) break;
      {
        std::lock_guard lock(mutex_);
        ++counts_[answer->header.msg_type];
      }
      if (answer->header.msg_type == proto::UnknownEngine::type) send_registration(socket);
    }
    const auto now = std::chrono::steady_clock::now();
    if (int pid = reregister_pid_.exchange(-1); pid >= 0) {
      if (pid != 0) options_.pid = pid;
      send_registration(socket);
    }
    if (silent_.load()) continue;
    if (heart && now >= next_heartbeat) {
      send_frames(*heart, session_.serialize(proto::make_message(session_, proto::Heartbeat{})), {},
                  zmq::send_flags::dontwait);
      next_heartbeat = now + heartbeat_;
    }
    send_due(socket);
  }
}

void InProcessEngine::send_due(zmq::socket_t& socket) {
  const auto now = std::chrono::steady_clock::now();
  while (!delayed_.empty() && delayed_.front().when <= now) {
    session_.send(socket, delayed_.front().reply);
    delayed_.pop_front();
  }
  if (release_.exchange(false)) {
    for (const Message& m : held_)
      session_.send(socket, m);
    held_.clear();
    std::lock_guard lock(mutex_);
    held_count_ = 0;
  }
}

void InProcessEngine::handle(zmq::socket_t& socket, Message& m) {
  const std::string& type = m.header.msg_type;
  {
    std::lock_guard lock(mutex_);
    ++counts_[type];
    log_.push_back(type);
  }
  if (type == proto::batch_request || detail::WorkMessages::contains(type)) {
    on_work(socket, m);
    return;
  }
  ControlMessages::dispatch(
      type, m.content,
      proto::overloaded{[&](const proto::RegistrationReply& reply) {
                          engine_id_.store(reply.engine_id);
                          heartbeat_ = std::chrono::milliseconds(reply.heartbeat_ms);
                          heart_changed_ = reply.heartbeat_endpoint != heart_endpoint_;
                          heart_endpoint_ = reply.heartbeat_endpoint;
                        },
                        [&](proto::UnknownEngine) { send_registration(socket); },
                        [&](const proto::RegistrationRefused&) {},  // counted above
                        [&](proto::ShutdownRequest) { stop_.store(true); }});
}

void InProcessEngine::observe(std::string_view type, const Object& content,
                              std::span<const Buffer> buffers) {
  std::lock_guard lock(mutex_);
  if (type == proto::PutRequest::type) {
    for (const Buffer& b : buffers)
      put_bytes_ += b.size();
  } else if (type == proto::ReleaseRequest::type) {
    for (std::uint64_t ref : proto::decode<proto::ReleaseRequest>(content).refs)
      released_refs_.push_back(ref);
  } else if (type == proto::MapRequest::type) {
    map_counts_.push_back(proto::decode<proto::MapRequest>(content).count);
  }
}

void InProcessEngine::on_work(zmq::socket_t& socket, Message& m) {
  // Each request as the real engine's loop runs it, then the faults the
  // functions asked for; a batch's plain replies go back as one batch_reply.
  auto run_one = [&](std::string_view type, const Object& content,
                     std::vector<Buffer>& buffers) -> std::optional<detail::Reply> {
    observe(type, content, buffers);
    reply_delay_ = 0ms;
    hold_reply_ = false;
    std::optional<detail::Reply> reply = handler_->handle(type, content, buffers);
    if (reply) reply->content.engine_id = engine_id_.load();
    return reply;
  };
  auto faulted = [&] {
    return hold_reply_ || reply_delay_ > 0ms || garble_.load() || options_.duplicate_replies;
  };
  if (m.header.msg_type != proto::batch_request) {
    if (auto reply = run_one(m.header.msg_type, m.content, m.buffers)) {
      answer(socket, m, proto::ApplyReply::type, proto::encode(reply->content),
             std::move(reply->buffers));
    }
    return;
  }
  BatchBuilder plain;
  std::vector<Buffer> buffers;
  for (BatchPart& part : split_batch(m.content, proto::batch_requests_field, m.buffers)) {
    {
      std::lock_guard lock(mutex_);
      ++counts_[part.type];  // counted as if it came alone
    }
    buffers.assign(std::make_move_iterator(part.buffers.begin()),
                   std::make_move_iterator(part.buffers.end()));
    std::optional<detail::Reply> reply = run_one(part.type, part.content, buffers);
    if (!reply) continue;
    if (faulted()) {
      answer(socket, m, proto::ApplyReply::type, proto::encode(reply->content),
             std::move(reply->buffers));
    } else {
      plain.add(reply->content, reply->buffers);
    }
  }
  if (plain.parts() != 0) {
    answer(socket, m, proto::batch_reply, plain.take_content(proto::batch_replies_field),
           plain.take_buffers());
  }
}

void InProcessEngine::answer(zmq::socket_t& socket, const Message& request, std::string_view type,
                             Object::Dict content, std::vector<Buffer> buffers) {
  if (garble_.load()) content.erase("task");
  const int copies = options_.duplicate_replies ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    // Each copy a distinct message (an identical one would be refused as a
    // replay before reaching the task logic).
    Message reply = session_.message(type, Object(content), &request);
    reply.buffers = buffers;
    if (hold_reply_) {
      held_.push_back(std::move(reply));
      std::lock_guard lock(mutex_);
      held_count_ = held_.size();
      max_held_ = std::max(max_held_, held_count_);
    } else if (reply_delay_ > 0ms) {
      const auto when = std::chrono::steady_clock::now() + reply_delay_;
      auto later = std::upper_bound(delayed_.begin(), delayed_.end(), when,
                                    [](auto t, const Pending& p) { return t < p.when; });
      delayed_.insert(later, Pending{when, std::move(reply)});
    } else if (!silent_.load() && !drop_.load()) {
      session_.send(socket, reply);
    }
  }
}

}  // namespace cannery::test

using namespace cannery;
using namespace cannery::test;

TEST_CASE("the in-process engine registers with a bare ROUTER and answers apply_request",
          "[controller][in_process]") {
  namespace proto = cannery::protocol;
  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  zmq::socket_t heart(context, zmq::socket_type::router);
  heart.set(zmq::sockopt::linger, 0);
  heart.bind("tcp://127.0.0.1:*");
  ConnectionInfo info;
  info.key = generate_key();
  info.endpoints["engines"] = router.get(zmq::sockopt::last_endpoint);
  SessionOptions so;
  so.key = info.key;
  Session session(so);

  InProcessEngine engine(info);
  auto registration = session.receive(router, 5000ms);
  REQUIRE(registration);
  const auto request = proto::decode<proto::RegistrationRequest>(*registration);
  CHECK(request.uuid == engine.uuid());
  CHECK(request.protocol == proto::to_string(proto::version));
  CHECK(registration->identities.front().as_string_view() == "engine-" + engine.uuid());
  proto::RegistrationReply reply;
  reply.engine_id = 7;
  reply.heartbeat_ms = 100;
  reply.allowed_misses = 4;
  reply.heartbeat_endpoint = heart.get(zmq::sockopt::last_endpoint);
  reply.protocol = proto::to_string(proto::version);
  Message m = proto::make_message(session, reply, &*registration);
  m.identities = registration->identities;
  session.send(router, m);
  REQUIRE(engine.wait_registered() == 7);
  auto beat = session.receive(heart, 5000ms);
  REQUIRE(beat);
  CHECK(beat->header.msg_type == proto::Heartbeat::type);
  CHECK(beat->identities.front().as_string_view() == "engine-" + engine.uuid());

  proto::ApplyRequest apply;
  apply.task = 1;
  Message call = proto::make_message(session, apply, nullptr, pack_apply_message("add", 2, 3));
  call.identities = registration->identities;
  session.send(router, call);
  for (int i = 0; i < 100; ++i) {
    auto answer = session.receive(router, 5000ms);
    REQUIRE(answer);
    if (answer->header.msg_type != proto::ApplyReply::type) continue;
    const auto result = proto::decode<proto::ApplyReply>(*answer);
    CHECK(result.task == 1);
    CHECK(result.engine_id == 7);
    CHECK(result.status == proto::Status::ok);
    CHECK(deserialize_object<double>(answer->buffers).value == 5.0);
    return;
  }
  FAIL("no apply_reply");
}
