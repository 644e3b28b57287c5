#include "cannery/engine/engine.hpp"

#include <unistd.h>
#include <array>
#include <cerrno>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "cannery/engine/detail/request_handler.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/detail/poll.hpp"
#include "cannery/messaging/detail/wake_fd.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/heart.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/object_server.hpp"
#include "cannery/messaging/protocol.hpp"
#include "cannery/messaging/receive_memory.hpp"
#include "cannery/messaging/session.hpp"
#include "cannery/messaging/shared_memory.hpp"
#include "data_plane.hpp"
#include "heart.hpp"
#include "relay_fetch.hpp"
#include "signals.hpp"
#include "work_priority.hpp"

namespace cannery {

namespace proto = protocol;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// One I/O thread for work, one for the heart (heart.hpp).
constexpr IoThreads io_threads{1};

// Both threads log through one sink, so lines never interleave.
detail::LogSink serialized(std::function<void(std::string_view)> sink) {
  if (!sink) sink = [](std::string_view line) { std::cerr << line << std::endl; };
  return [mutex = std::make_shared<std::mutex>(), sink = std::move(sink)](std::string_view line) {
    std::lock_guard lock(*mutex);
    sink(line);
  };
}

ConnectionInfo connection_of(const EngineOptions& options) {
  if (options.connection) return *options.connection;
  if (options.connection_file.empty()) {
    throw error(errc::invalid_argument,
                "EngineOptions needs the controller's connection file (connection_file) or its "
                "contents (connection)");
  }
  return read_connection_file(options.connection_file);
}

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

// What the controller sends on the work socket besides work messages
// (detail::WorkMessages) and batches.
using ControlMessages = proto::MessageTable<proto::RegistrationReply, proto::RegistrationRefused,
                                            proto::UnknownEngine, proto::ShutdownRequest>;

}  // namespace

// --- The I/O loop --------------------------------------------------------------

class Engine::Loop {
 public:
  explicit Loop(Engine& engine);
  void run();

 private:
  SessionOptions session_options() const;
  void connect();
  void poll_once(const detail::StopSignals& signals);
  void on_message(Message message, Clock::time_point now);
  void on(const proto::RegistrationReply& reply);
  std::shared_ptr<FrameCompressor> compressor_for(const proto::RegistrationReply& reply);
  void on(const proto::RegistrationRefused& refused);
  void on(proto::UnknownEngine);
  void on(proto::ShutdownRequest);
  void on_timers(Clock::time_point now);
  milliseconds poll_timeout(Clock::time_point now) const;
  // How long the controller may stay silent: heartbeat x allowed_misses.
  milliseconds patience() const { return heartbeat_ * allowed_misses_; }
  // When, registered, the controller counts as lost: patience() after it
  // was last heard from, on either socket.
  Clock::time_point controller_silent_at() const;
  void send_registration(Clock::time_point now);
  // Stops serving as registered and asks the controller again.
  void register_again(Clock::time_point now, const std::string& why);
  detail::Heart::Setup heart_setup() const;
  // The data socket, unless turned off or it cannot be bound (then logged:
  // the engine works without the data_plane capability).
  std::unique_ptr<detail::ObjectServer> start_data_server();
  // CURVE on data sockets when the controller uses it (the engine refuses to
  // start without a key pair then).
  static std::optional<detail::DataCurve> data_curve(const Engine& engine);
  // Brings what a fetch_request names into `cache`: a kept result whole, a
  // relayed put piece by piece (then a fetch_report says how it went).
  void fetch(const proto::FetchRequest& request, ObjectCache& cache);
  template <proto::MessageType T>
  void send(const T& content, const Message* parent = nullptr, std::vector<Buffer> buffers = {}) {
    send(make_message(session_, content, parent, std::move(buffers)));
  }
  void send(Message message);
  // Hands waiting replies to libzmq, oldest first, while it takes them.
  void send_waiting_replies();
  std::optional<detail::Reply> run_request(std::string_view type, const Object& content,
                                           std::vector<Buffer>& buffers);
  void run_batch(Message& batch);
  bool should_stop(const detail::StopSignals& signals);
  void log(const std::string& line) const { engine_.options_.log_sink(line); }
  // A signed message it cannot act on: counted in refused_messages, logged
  // (rate-limited) with the other refusals.
  void refuse(errc code, const std::string& why) {
    session_.refusals().record(error(code, why), "controller");
  }
  void publish_refusals() {
    engine_.refused_.store(session_.refusals().total() + heart_.refused() +
                               (data_server_ ? data_server_->refused() : 0),
                           std::memory_order_relaxed);
  }

  Engine& engine_;
  zmq::context_t context_;
  zmq::socket_t dealer_;
  Session session_;
  // Which /dev/shm this engine sees, when it shares objects through it.
  const std::optional<std::string> shm_domain_;
  // Compresses the replies to the controller, when its registration_reply
  // says so (a tcp link to another host).
  std::shared_ptr<FrameCompressor> compressor_;
  // CURVE on data sockets, when the cluster uses it.
  const std::optional<detail::DataCurve> data_curve_;
  detail::Arrivals arrivals_;  // relayed objects arriving, served meanwhile
  detail::RequestHandler handler_;
  std::unique_ptr<detail::ObjectServer> data_server_;  // reads handler_'s cache and arrivals_
  // Lets the controller find out that it can hand put() objects over in
  // shared memory; removed from /dev/shm when the loop ends.
  std::optional<SharedMemoryProbe> shared_memory_probe_;
  // Keeps freed memory of large messages for the next ones, within the bound
  // main() set (receive_memory.hpp); idle when none was set.
  ReceiveMemoryKeeper receive_memory_;
  detail::Heart heart_;  // declared last: stopped before the context closes

  bool registered_ = false;
  bool shutdown_ = false;
  Clock::time_point started_{};
  // Why run() gives up: no controller answered the first registration.
  std::optional<std::string> unreachable_;
  // Why the controller refused this engine; run() throws it.
  std::optional<std::string> refused_;
  Clock::time_point now_{};  // of the message being handled
  int engine_id_ = -1;       // the last one given, for replies
  milliseconds heartbeat_;
  int allowed_misses_;
  std::string heart_endpoint_;      // where the heart beats while registered
  Clock::time_point last_heard_{};  // the last message on the work socket
  Clock::time_point next_registration_{};
  Clock::time_point last_registration_{};
  // Replies libzmq had no room for (its queue to the controller holds 1,000
  // messages; a controller busy elsewhere lets it fill), signed, in order:
  // a dropped reply would leave its task unanswered. As many as the requests
  // the controller sent, which it bounds (max_in_flight_per_engine).
  std::deque<std::vector<Buffer>> waiting_replies_;
};

Engine::Loop::Loop(Engine& engine)
    : engine_(engine),
      context_(io_threads.make_context()),
      dealer_(context_, zmq::socket_type::dealer),
      session_(session_options()),
      shm_domain_(engine.options_.shared_memory ? shm_domain() : std::nullopt),
      data_curve_(data_curve(engine)),
      handler_(engine.functions_, engine.options_.limits, session_.refusals(),
               [this](const proto::FetchRequest& request, ObjectCache& cache) {
                 fetch(request, cache);
               }),
      data_server_(start_data_server()),
      shared_memory_probe_(engine.options_.shared_memory ? SharedMemoryProbe::create()
                                                         : std::nullopt),
      heart_(context_, heart_setup()),
      heartbeat_(engine.options_.heartbeat),
      allowed_misses_(engine.options_.allowed_misses) {
  connect();
}

detail::Heart::Setup Engine::Loop::heart_setup() const {
  return {io_threads,
          session_options(),
          engine_.routing_id(),
          engine_.options_.curve_keys,
          engine_.connection_.curve_server_public_key,
          &engine_.heartbeats_sent_,
          &engine_.heartbeats_answered_,
          engine_.wake_.get()};
}

std::optional<detail::DataCurve> Engine::Loop::data_curve(const Engine& engine) {
  if (engine.connection_.curve_server_public_key.empty() || !engine.options_.curve_keys)
    return std::nullopt;
  return detail::DataCurve{*engine.options_.curve_keys, engine.connection_.curve_server_public_key};
}

std::unique_ptr<detail::ObjectServer> Engine::Loop::start_data_server() {
  if (!engine_.options_.data_plane) return nullptr;
  detail::DataPlaneCounters* counters = engine_.data_counters_.get();
  try {
    return std::make_unique<detail::ObjectServer>(
        context_, detail::ObjectServer::Setup{
                      .session = session_options(),
                      .bind_endpoint = detail::data_bind_endpoint(engine_.endpoint_, engine_.uuid_),
                      .max_frame_bytes = engine_.options_.max_frame_bytes,
                      .thread_name = "cannery-data",
                      .peer_kind = "engine",
                      .lookup =
                          [this](std::uint64_t ref) {
                            // The cache first: a relayed object is cached before it
                            // leaves arrivals_.
                            if (ObjectCache::Frames frames = handler_.cache().find(ref))
                              return detail::Holding{std::move(frames), nullptr};
                            return detail::Holding{nullptr, arrivals_.find(ref)};
                          },
                      .served =
                          [counters](std::uint64_t, std::uint64_t bytes, bool whole) {
                            if (whole)
                              counters->objects_served.fetch_add(1, std::memory_order_relaxed);
                            counters->bytes_served.fetch_add(bytes, std::memory_order_relaxed);
                          },
                      .shm_domain = shm_domain_,
                      .before_bind =
                          [this](zmq::socket_ref socket) {
                            if (data_curve_) make_open_curve_server(socket, data_curve_->keys);
                          }});
  } catch (const error& e) {
    log("cannery-engine: no data socket, so results kept here cannot move to other engines: " +
        e.message());
    return nullptr;
  }
}

void Engine::Loop::fetch(const proto::FetchRequest& request, ObjectCache& cache) {
  detail::DataPlaneCounters& counters = *engine_.data_counters_;
  if (!request.frame_sizes) {
    std::vector<Buffer> frames = detail::fetch_object(
        context_, session_, request, engine_.options_.fetch_timeout, engine_.options_.limits,
        engine_.options_.max_frame_bytes, data_curve_);
    const std::size_t bytes = total_size(frames);
    cache.put(request.ref, std::move(frames));
    counters.objects_fetched.fetch_add(1);
    counters.bytes_fetched.fetch_add(bytes);
    return;
  }
  proto::FetchReport report{.ref = request.ref,
                            .ok = false,
                            .from_engines = 0,
                            .from_controller = 0,
                            .through_shared_memory = 0,
                            .why = std::nullopt};
  try {
    detail::RelayFetched fetched =
        detail::relay_fetch(request, {.context = &context_,
                                      .session = &session_,
                                      .arrivals = &arrivals_,
                                      .controller_endpoint = engine_.endpoint_,
                                      .curve = data_curve_,
                                      .shm_domain = shm_domain_,
                                      .max_frame_bytes = engine_.options_.max_frame_bytes,
                                      .limits = engine_.options_.limits,
                                      .stall_timeout = engine_.options_.relay_stall_timeout});
    cache.put(request.ref, std::move(fetched.frames));
    arrivals_.remove(request.ref);
    counters.objects_fetched.fetch_add(1);
    counters.bytes_fetched.fetch_add(fetched.from_engines + fetched.from_controller);
    report.ok = true;
    report.from_engines = fetched.from_engines;
    report.from_controller = fetched.from_controller;
    report.through_shared_memory = fetched.through_shared_memory;
    send(report);
  } catch (const error& e) {
    // fetch_report.why holds at most 4096 bytes (a list of sources can be
    // longer); the whole text goes to this engine's log with the refusal.
    report.why = e.message().substr(0, 4096);
    send(report);
    throw;
  }
}

SessionOptions Engine::Loop::session_options() const {
  SessionOptions o;
  o.key = engine_.connection_.key;
  o.insecure = engine_.options_.insecure;
  o.signature_scheme = engine_.connection_.signature_scheme;
  o.buffer_digests = engine_.options_.buffer_digests;
  if (engine_.options_.max_frame_bytes > 0)
    o.decompression.max_frame_bytes = static_cast<std::size_t>(engine_.options_.max_frame_bytes);
  o.username = "cannery-engine";
  o.log_sink = engine_.options_.log_sink;
  return o;
}

void Engine::Loop::connect() {
  const EngineOptions& o = engine_.options_;
  io_threads.pin_to_data(dealer_);
  dealer_.set(zmq::sockopt::routing_id, engine_.routing_id());
  dealer_.set(zmq::sockopt::linger, static_cast<int>(o.linger.count()));
  if (o.max_frame_bytes > 0) limit_frame_size(dealer_, o.max_frame_bytes);
  if (!engine_.connection_.curve_server_public_key.empty()) {
    make_curve_client(dealer_, *o.curve_keys, engine_.connection_.curve_server_public_key);
  }
  try {
    dealer_.connect(engine_.endpoint_);
  } catch (const zmq::error_t& e) {
    throw error(errc::io_error, "cannot connect to the controller at '" + engine_.endpoint_ +
                                    "': " + e.what() +
                                    " (check the 'engines' endpoint of the connection file)");
  }
}

void Engine::Loop::run() {
  // Here, once the constructor has started every other thread of the engine.
  if (engine_.options_.work_nice > 0) {
    if (auto why = detail::lower_this_thread_priority(engine_.options_.work_nice))
      log("cannery-engine: the work thread keeps its priority (" + *why + ")");
  }
  detail::StopSignals signals(engine_.options_.stop_on_signals, *engine_.wake_);
  started_ = Clock::now();
  send_registration(started_);
  while (!should_stop(signals)) {
    try {
      poll_once(signals);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;  // a signal interrupted the poll: look at it
    }
  }
  if (refused_) throw error(errc::version_mismatch, *refused_);
  if (unreachable_) throw error(errc::timeout, *unreachable_);
}

bool Engine::Loop::should_stop(const detail::StopSignals& signals) {
  if (shutdown_ || refused_ || unreachable_ || engine_.stop_requested_.load()) return true;
  if (int signal = signals.received(); signal != 0) {
    log("cannery-engine: stopping on signal " + std::to_string(signal));
    shutdown_ = true;
    return true;
  }
  return false;
}

void Engine::Loop::poll_once(const detail::StopSignals& signals) {
  const short out = waiting_replies_.empty() ? 0 : ZMQ_POLLOUT;
  zmq::pollitem_t items[] = {{dealer_.handle(), 0, static_cast<short>(ZMQ_POLLIN | out), 0},
                             {nullptr, engine_.wake_->fd(), ZMQ_POLLIN, 0}};
  detail::poll(items, poll_timeout(Clock::now()));
  // Cleared before the news is looked at (the loop's condition, on_timers).
  if ((items[1].revents & ZMQ_POLLIN) != 0) engine_.wake_->clear();
  const zmq::pollitem_t& item = items[0];
  if ((item.revents & ZMQ_POLLOUT) != 0) send_waiting_replies();
  if ((item.revents & ZMQ_POLLIN) != 0) {
    // Refused messages are counted and logged by the Session, and skipped.
    // Requests not started when asked to stop stay unread, and are dropped.
    while (!should_stop(signals)) {
      std::optional<Message> message = session_.receive(dealer_, milliseconds(0));
      if (!message) break;
      // Refusals before this message are counted before it is answered.
      publish_refusals();
      const std::size_t bytes = buffer_bytes(message->buffers);
      on_message(std::move(*message), Clock::now());
      receive_memory_.after_message(bytes, now_);
    }
  }
  on_timers(Clock::now());
  publish_refusals();
}

void Engine::Loop::on_message(Message message, Clock::time_point now) {
  last_heard_ = now;  // any message is a sign of life
  now_ = now;
  const std::string& type = message.header.msg_type;
  if (type == proto::batch_request) return run_batch(message);
  if (detail::WorkMessages::contains(type)) {
    if (std::optional<detail::Reply> reply = run_request(type, message.content, message.buffers))
      send(reply->content, &message, std::move(reply->buffers));
    return;
  }
  try {
    if (!ControlMessages::dispatch(type, message.content, [&](auto m) { on(m); })) {
      refuse(errc::malformed_message,
             "ignored a message of unknown type '" + type.substr(0, 64) + "'");
    }
  } catch (const error& e) {
    refuse(e.code(), "ignored a message: " + e.message());
  }
}

void Engine::Loop::on(const proto::RegistrationReply& reply) {
  if (auto why = proto::incompatibility(reply.protocol, proto::version, "the controller")) {
    // A controller of another major version would have refused this engine.
    refuse(errc::version_mismatch, "ignored a registration_reply: " + *why);
    return;
  }
  std::string heart_endpoint;
  try {
    heart_endpoint = heart_connect_endpoint(engine_.endpoint_, reply.heartbeat_endpoint);
  } catch (const error& e) {
    refuse(e.code(), "ignored a registration_reply: " + e.message());
    return;
  }
  // The answers to the requests repeated while waiting: the first one counts.
  const milliseconds period(reply.heartbeat_ms);
  if (registered_ && reply.engine_id == engine_id_ && heart_endpoint == heart_endpoint_ &&
      period == heartbeat_ && reply.allowed_misses == allowed_misses_) {
    return;
  }
  log("cannery-engine: registered as engine " + std::to_string(reply.engine_id));
  heart_.beat(heart_endpoint, period);
  registered_ = true;
  engine_id_ = reply.engine_id;
  heartbeat_ = period;
  heart_endpoint_ = heart_endpoint;
  allowed_misses_ = reply.allowed_misses;
  compressor_ = compressor_for(reply);
  engine_.id_.store(reply.engine_id);
  ++engine_.registrations_;
}

std::shared_ptr<FrameCompressor> Engine::Loop::compressor_for(
    const proto::RegistrationReply& reply) {
  if (!reply.compression) return nullptr;
  const std::optional<Codec> codec = codec_from_string(reply.compression->codec);
  try {
    if (!codec) throw error(errc::invalid_argument, "no codec '" + reply.compression->codec + "'");
    if (*codec == Codec::none) return nullptr;
    return std::make_shared<FrameCompressor>(
        LinkCompression{.codec = *codec,
                        .min_bytes = static_cast<std::size_t>(reply.compression->min_bytes),
                        .level = reply.compression->level});
  } catch (const error& e) {
    // A newer controller's codec: replies go uncompressed, which it reads.
    log("cannery-engine: replies go uncompressed: the controller asks for compression this "
        "engine cannot give (" +
        e.message() + ")");
    return nullptr;
  }
}

void Engine::Loop::on(const proto::RegistrationRefused& refused) {
  refused_ = "the controller (protocol " + refused.protocol.substr(0, 32) +
             ") refused this engine (protocol " + engine_.options_.protocol +
             "): " + refused.reason.substr(0, 1024);
  log("cannery-engine: " + *refused_);
}

void Engine::Loop::on(proto::UnknownEngine) {
  register_again(now_, "the controller does not know this engine");
}

void Engine::Loop::on(proto::ShutdownRequest) {
  shutdown_ = true;
}

void Engine::Loop::register_again(Clock::time_point now, const std::string& why) {
  if (registered_) {
    log("cannery-engine: " + why + "; registering again");
    ++engine_.controller_losses_;
  }
  registered_ = false;
  engine_.id_.store(-1);
  heart_.pause();
  // One registration per burst of unknown_engine answers; the timer repeats it.
  if (now - last_registration_ >= heartbeat_ / 2) send_registration(now);
}

void Engine::Loop::on_timers(Clock::time_point now) {
  receive_memory_.tick(now);
  if (registered_) {
    if (heart_.take_unknown()) {
      register_again(now,
                     "the controller does not know this engine (it answered a heartbeat "
                     "with unknown_engine)");
    } else if (now >= controller_silent_at()) {
      register_again(now, "no heartbeat answered by the controller at " + heart_endpoint_ +
                              " for " + std::to_string(patience().count()) +
                              " ms (if it runs, check that this host can reach that address)");
    }
    return;
  }
  const milliseconds limit = engine_.options_.register_timeout;
  if (limit.count() > 0 && engine_.registrations_.load() == 0 && now - started_ >= limit) {
    unreachable_ =
        "no registration_reply from the controller at " + engine_.endpoint_ + " in " +
        std::to_string(std::chrono::duration_cast<milliseconds>(now - started_).count()) +
        " ms (a registration_request every " + std::to_string(heartbeat_.count()) +
        " ms); check that the controller runs, that this host can reach that address (a "
        "controller bound to a loopback address such as 127.0.0.1 is reachable from its own "
        "host only: bind it to an interface the engines reach), and that the connection "
        "info is the running controller's";
    log("cannery-engine: " + *unreachable_);
    return;
  }
  if (now >= next_registration_) send_registration(now);
}

Clock::time_point Engine::Loop::controller_silent_at() const {
  return std::max(heart_.last_answer(), last_heard_) + patience();
}

milliseconds Engine::Loop::poll_timeout(Clock::time_point now) const {
  // Until on_timers() has something to do: stop(), stop signals and the
  // heart's unknown_engine wake the poll sooner (wake_), so that an idle
  // engine does not wake for nothing.
  Clock::time_point due = registered_ ? controller_silent_at() : next_registration_;
  if (const std::optional<Clock::time_point> trim = receive_memory_.next_tick())
    due = std::min(due, *trim);
  return std::max(std::chrono::ceil<milliseconds>(due - now), milliseconds(0));
}

void Engine::Loop::send_registration(Clock::time_point now) {
  proto::RegistrationRequest request{.uuid = engine_.uuid_,
                                     .pid = ::getpid(),
                                     .hostname = host_name(),
                                     .functions = engine_.functions_.names(),
                                     .protocol = engine_.options_.protocol,
                                     .capabilities = {std::string(proto::capability::batches),
                                                      std::string(proto::capability::compression)},
                                     .registrations = engine_.registrations_.load(),
                                     .shared_memory = std::nullopt,
                                     .rank = engine_.options_.rank,
                                     .data_endpoint = std::nullopt,
                                     .shm_domain = shm_domain_,
                                     .data_curve_key = std::nullopt};
  if (shared_memory_probe_) {
    request.capabilities.emplace_back(proto::capability::shared_memory);
    request.shared_memory = shared_memory_probe_->describe();
  }
  if (data_server_) {
    request.capabilities.emplace_back(proto::capability::data_plane);
    request.capabilities.emplace_back(proto::capability::relay);
    request.data_endpoint = data_server_->endpoint();
    if (data_curve_) request.data_curve_key = data_curve_->keys.public_key;
  }
  send(request);
  last_registration_ = now;
  next_registration_ = now + heartbeat_;
}

void Engine::Loop::send(Message message) {
  const std::string type = message.header.msg_type;
  const bool reply = type == proto::ApplyReply::type || type == proto::batch_reply;
  if (reply) message.compressor = compressor_;
  try {
    std::vector<Buffer> frames = session_.serialize(std::move(message));
    // Never block the loop (heartbeats are answered elsewhere, but requests
    // and the controller's news are read here); replies keep their order.
    if ((reply && !waiting_replies_.empty()) ||
        !send_frames(dealer_, frames, session_.options().frames, zmq::send_flags::dontwait)) {
      if (reply) {
        waiting_replies_.push_back(std::move(frames));
      } else {
        // A registration_request: the timer sends another.
        log("cannery-engine: the queue to the controller is full; dropped a " + type);
      }
    }
  } catch (const error& e) {
    log("cannery-engine: could not send a " + type + ": " + e.message());
  }
}

void Engine::Loop::send_waiting_replies() {
  try {
    while (!waiting_replies_.empty() &&
           send_frames(dealer_, waiting_replies_.front(), session_.options().frames,
                       zmq::send_flags::dontwait)) {
      waiting_replies_.pop_front();
    }
  } catch (const error& e) {
    log("cannery-engine: could not send a waiting reply: " + e.message());
    waiting_replies_.pop_front();
  }
}

std::optional<detail::Reply> Engine::Loop::run_request(std::string_view type, const Object& content,
                                                       std::vector<Buffer>& buffers) {
  // The handler turns every failure of a request into an error reply; only
  // running out of memory while making one gets out of it.
  std::optional<detail::Reply> reply;
  try {
    reply = handler_.handle(type, content, buffers);
  } catch (...) {
    log("cannery-engine: could not answer a " + std::string(type) + " (out of memory?)");
  }
  if (reply) {
    reply->content.engine_id = engine_id_;
    engine_.requests_answered_.fetch_add(1, std::memory_order_relaxed);
  }
  return reply;
}

void Engine::Loop::run_batch(Message& batch) {
  std::vector<BatchPart> parts;
  try {
    parts = split_batch(batch.content, proto::batch_requests_field, batch.buffers);
  } catch (const error& e) {
    refuse(e.code(), "ignored a batch_request: " + e.message());
    return;
  }
  BatchBuilder replies;
  std::vector<Buffer> buffers;
  for (BatchPart& part : parts) {
    if (!detail::WorkMessages::contains(part.type)) {
      refuse(errc::malformed_message,
             "skipped a part of a batch_request that is not a work "
             "request ('" +
                 part.type.substr(0, 64) + "')");
      continue;
    }
    buffers.assign(std::make_move_iterator(part.buffers.begin()),
                   std::make_move_iterator(part.buffers.end()));
    if (std::optional<detail::Reply> reply = run_request(part.type, part.content, buffers)) {
      replies.add(reply->content, reply->buffers);
    }
  }
  buffers = {};  // the last request's frames: freed before sending
  if (replies.parts() == 0) return;
  Message reply = session_.message(
      proto::batch_reply, Object(replies.take_content(proto::batch_replies_field)), &batch);
  reply.buffers = replies.take_buffers();
  send(std::move(reply));
}

// --- Engine ------------------------------------------------------------------------

Engine::Engine(EngineOptions options)
    : options_(std::move(options)),
      connection_(connection_of(options_)),
      uuid_(options_.uuid.empty() ? new_session_id() : options_.uuid),
      data_counters_(std::make_unique<detail::DataPlaneCounters>()),
      wake_(std::make_unique<detail::WakeFd>()) {
  auto endpoint = connection_.endpoints.find(std::string(proto::engines_endpoint));
  if (endpoint == connection_.endpoints.end() || endpoint->second.empty()) {
    throw error(errc::invalid_argument,
                "the connection names no '" + std::string(proto::engines_endpoint) +
                    "' endpoint: use the connection file the controller wrote");
  }
  endpoint_ = endpoint->second;
  if (options_.heartbeat.count() < 1 || options_.allowed_misses < 1) {
    throw error(errc::invalid_argument,
                "EngineOptions::heartbeat must be at least 1 ms and allowed_misses at least 1");
  }
  if (options_.work_nice < 0 || options_.work_nice > 19) {
    throw error(errc::invalid_argument, "EngineOptions::work_nice is " +
                                            std::to_string(options_.work_nice) +
                                            ": give a nice increment from 0 (off) to 19");
  }
  if (connection_.key.empty() && !options_.insecure) {
    throw error(errc::invalid_argument,
                "the connection has no key, so messages would be unsigned: use the controller's "
                "connection file, or set EngineOptions::insecure for a local experiment");
  }
  if (!connection_.curve_server_public_key.empty() && !options_.curve_keys) {
    throw error(errc::invalid_argument,
                "the controller uses CURVE (its connection names a curve_server_key): give this "
                "engine a key pair (EngineOptions::curve_keys, cannery-engine --curve-key FILE) "
                "whose public key the controller allows");
  }
  options_.log_sink = serialized(std::move(options_.log_sink));
  functions_.function(std::string(proto::get_function), [](Object value) { return value; });
  functions_.function("cannery.engine_stats", [this] {
    const EngineStats s = stats();
    return std::map<std::string, std::uint64_t>{
        {"registrations", s.registrations},       {"controller_losses", s.controller_losses},
        {"heartbeats_sent", s.heartbeats_sent},   {"heartbeats_answered", s.heartbeats_answered},
        {"refused_messages", s.refused_messages}, {"requests_answered", s.requests_answered},
        {"objects_served", s.objects_served},     {"bytes_served", s.bytes_served},
        {"objects_fetched", s.objects_fetched},   {"bytes_fetched", s.bytes_fetched}};
  });
}

Engine::~Engine() = default;

FunctionRegistry& Engine::functions() {
  if (running_.load()) {
    throw error(errc::invalid_argument,
                "register functions before Engine::run: the running engine reads its registry "
                "from another thread");
  }
  return functions_;
}

void Engine::run() {
  if (ran_.exchange(true)) {
    throw error(errc::invalid_argument,
                "Engine::run was called twice: an Engine serves once; make a new one");
  }
  running_.store(true);
  struct Finished {
    Engine& engine;
    ~Finished() {
      engine.id_.store(-1);
      engine.running_.store(false);
    }
  } finished{*this};
  Loop loop(*this);
  loop.run();
}

void Engine::stop() noexcept {
  stop_requested_.store(true);
  wake_->notify();
}

EngineStats Engine::stats() const noexcept {
  return {.registrations = registrations_.load(),
          .controller_losses = controller_losses_.load(),
          .heartbeats_sent = heartbeats_sent_.load(),
          .heartbeats_answered = heartbeats_answered_.load(),
          .refused_messages = refused_.load(),
          .requests_answered = requests_answered_.load(),
          .objects_served = data_counters_->objects_served.load(),
          .bytes_served = data_counters_->bytes_served.load(),
          .objects_fetched = data_counters_->objects_fetched.load(),
          .bytes_fetched = data_counters_->bytes_fetched.load()};
}

std::optional<int> Engine::id() const noexcept {
  const int id = id_.load();
  return id < 0 ? std::nullopt : std::optional<int>(id);
}

std::string Engine::routing_id() const {
  return std::string(proto::engine_routing_prefix) + uuid_;
}

}  // namespace cannery
