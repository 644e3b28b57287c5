// Core: lifecycle, the I/O loop, and the commands from user threads.
#include "core.hpp"

#include <pthread.h>

#include <algorithm>
#include <string>
#include <thread>

#include "cannery/canning/error.hpp"
#include "cannery/controller/async_result.hpp"
#include "cannery/messaging/detail/poll.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/protocol.hpp"

namespace cannery::detail {
namespace {

SessionOptions session_options(const std::string& key, const ControllerOptions& o) {
  SessionOptions s;
  s.key = key;
  s.insecure = o.insecure && key.empty();
  s.log_sink = o.log_sink;
  s.username = "cannery-controller";
  if (o.max_frame_bytes > 0)
    s.decompression.max_frame_bytes = static_cast<std::size_t>(o.max_frame_bytes);
  return s;
}

void check_options(const ControllerOptions& o) {
  if (o.heartbeat.count() <= 0) {
    throw error(errc::invalid_argument, "ControllerOptions::heartbeat must be positive");
  }
  if (o.allowed_misses < 1) {
    throw error(errc::invalid_argument, "ControllerOptions::allowed_misses must be at least 1");
  }
  if (o.wait_spin.count() < 0) {
    throw error(errc::invalid_argument,
                "ControllerOptions::wait_spin must not be negative (0 turns spinning off)");
  }
  if (o.handshake_timeout.count() <= 0) {
    throw error(errc::invalid_argument, "ControllerOptions::handshake_timeout must be positive");
  }
  if (o.max_in_flight_per_engine == 0) {
    throw error(errc::invalid_argument,
                "ControllerOptions::max_in_flight_per_engine must be at least 1");
  }
  try {
    checked(o.compression);
  } catch (const error& e) {
    throw error(errc::invalid_argument, "ControllerOptions::compression: " + e.message());
  }
}

std::size_t shared_memory_writers(const ControllerOptions& o) {
  if (o.shared_memory_writers != 0) return o.shared_memory_writers;
  return std::min<std::size_t>(usable_cpus(), 4);
}

std::string bind_address(const ControllerOptions& o) {
  if (!o.endpoint.empty()) return o.endpoint;
  if (o.interface.rfind("tcp://", 0) != 0) {
    throw error(errc::invalid_argument,
                "ControllerOptions::interface '" + o.interface +
                    "' is not a tcp:// address; for ipc or a fixed port set "
                    "ControllerOptions::endpoint instead");
  }
  return o.interface + ":*";
}

}  // namespace

Core::Core(const ControllerOptions& options, const std::string& key)
    : options_((check_options(options), options)),
      context_(io_threads_.make_context()),
      session_(session_options(key, options)),
      refusals_(options.log_sink),
      commands_(options.max_pending) {
  // Segments of controllers and engines killed before they could remove them.
  if (options_.shared_memory) remove_stale_segments();
  // Two connections per engine, plus whatever connects: the soft limit (1024
  // on many systems, 256 in some containers) would be the first to run out.
  if (const std::uint64_t files = raise_open_file_limit(); files != 0 && files < 1024) {
    refusals_.warn("cannery controller: this process may open only " + std::to_string(files) +
                   " files (its hard limit): about " + std::to_string(files / 2) +
                   " engines can connect; raise the hard limit (ulimit -Hn, or LimitNOFILE "
                   "in a systemd unit) to serve more");
  }
  // The authenticator must exist before a CURVE server socket binds.
  if (options_.curve_server) {
    authenticator_ = std::make_unique<CurveAuthenticator>(context_, options_.curve_allowed_engines);
  }
  router_ = zmq::socket_t(context_, zmq::socket_type::router);
  io_threads_.pin_to_data(router_);
  // No high-water mark: what waits for an engine is bounded by
  // max_in_flight_per_engine already, and a send refused for a full queue
  // would declare a live engine dead while it is still reading a long
  // transfer.
  router_.set(zmq::sockopt::sndhwm, 0);
  router_.set(zmq::sockopt::handshake_ivl, static_cast<int>(options_.handshake_timeout.count()));
  if (options_.max_frame_bytes > 0) limit_frame_size(router_, options_.max_frame_bytes);
  // Long enough for a final shutdown_request to leave, short enough that a
  // vanished engine does not hold up the controller's exit.
  router_.set(zmq::sockopt::linger, 200);
  make_router_mandatory(router_);
  if (options_.curve_server) make_curve_server(router_, *options_.curve_server);
  const std::string address = bind_address(options_);
  try {
    router_.bind(address);
  } catch (const zmq::error_t& e) {
    throw error(errc::io_error, "could not bind the engines' socket to '" + address +
                                    "': " + e.what() +
                                    " (is the port in use, or the interface not on this host?)");
  }
  endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  const std::string heart_address = options_.heartbeat_endpoint.empty()
                                        ? default_heart_bind_address(endpoint_)
                                        : options_.heartbeat_endpoint;
  heart_ =
      std::make_unique<HeartMonitor>(context_, io_threads_, heart_address, options_.curve_server,
                                     session_options(key, options_), options_.handshake_timeout);
  start_relay(session_options(key, options_));
}

Core::~Core() {
  stop();
}

void Core::start() {
  heart_->start();
  thread_ = std::thread([this] { run(); });
  // Named for top, perf and gdb (at most 15 characters).
  ::pthread_setname_np(thread_.native_handle(), "cannery-ctrl");
}

void Core::stop() noexcept {
  stopping_.store(true);
  commands_.close();
  if (thread_.joinable()) thread_.join();
  heart_->stop();
  relay_.reset();
  std::lock_guard lock(live_mutex_);
  live_changed_.notify_all();
}

void Core::run() noexcept {
  try {
    loop();
  } catch (const std::exception& e) {
    refusals_.warn(std::string("cannery controller: the I/O thread stopped on an error: ") +
                   e.what());
  }
  fail_everything();
}

void Core::loop() {
  next_liveness_check_ = Clock::now() + options_.heartbeat;
  std::vector<Command> batch;
  bool more_to_read = false;
  while (!stopping_.load(std::memory_order_relaxed)) {
    Clock::time_point wake_at = next_liveness_check_;
    if (!deadlines_.empty()) wake_at = std::min(wake_at, deadlines_.top().first);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - Clock::now());
    if (more_to_read || wait.count() < 0) wait = std::chrono::milliseconds(0);
    zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, commands_.wake_fd(), ZMQ_POLLIN, 0}};
    detail::poll(items, wait);
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
      commands_.take(batch);
      for (Command& c : batch)
        handle(c);
      batch.clear();
    }
    more_to_read = receive_available();
    dispatch();
    tick(Clock::now());
    declare_deaths();
#ifdef CANNERY_CHECK_INVARIANTS
    check_invariants();
#endif
    // Here, where no reference into the engine table is held.
    forget_old_dead_engines();
    commands_.release(released_);
    released_ = 0;
  }
}

void Core::handle(Command& command) {
  if (auto* s = std::get_if<Submission>(&command)) {
    accept(std::move(*s));
  } else if (auto* add = std::get_if<AddRefCommand>(&command)) {
    if (!add->segment_failure.empty()) {
      refusals_.warn("cannery controller: put() sends its object over the socket: " +
                     add->segment_failure);
    }
    Ref& ref = refs_[add->id];
    ref.shared = std::move(add->shared);
    ref.frames = std::move(add->frames);
    offer_for_relay(add->id, ref);
    std::lock_guard lock(ref_stats_mutex_);
    ref_stats_.emplace(add->id, RefStats{});
  } else if (auto* drop = std::get_if<DropRefCommand>(&command)) {
    auto it = refs_.find(drop->id);
    if (it != refs_.end()) {
      it->second.dropped = true;
      maybe_release(drop->id);
    }
  } else if (auto* query = std::get_if<QueryCommand>(&command)) {
    std::vector<EngineInfo> infos;
    infos.reserve(engines_.size());
    for (const auto& [id, e] : engines_) {
      infos.push_back(e.info);
      infos.back().in_flight = placement_.count(id);
    }
    query->reply.set_value(std::move(infos));
  } else if (auto* shutdown = std::get_if<ShutdownCommand>(&command)) {
    const std::string here = this_hostname();
    for (auto& [id, e] : engines_) {
      if (!e.info.alive) continue;
      const bool listed = e.info.hostname == here &&
                          std::find(shutdown->pids.begin(), shutdown->pids.end(), e.info.pid) !=
                              shutdown->pids.end();
      if (shutdown->all || listed) {
        e.leaving = true;
        send(e, protocol::ShutdownRequest{});
      }
    }
    shutdown->done.set_value();
  }
}

void Core::fail_everything() {
  commands_.close();
  const TaskFailure stopped = error(errc::io_error, "the controller stopped before the task ended");
  std::vector<Command> left;
  commands_.take(left);
  for (Command& c : left) {
    if (auto* s = std::get_if<Submission>(&c)) {
      s->held.clear();  // as end_task does
      s->sink->fail(s->slot, stopped);
    } else if (auto* query = std::get_if<QueryCommand>(&c)) {
      query->reply.set_value({});
    } else if (auto* shutdown = std::get_if<ShutdownCommand>(&c)) {
      shutdown->done.set_value();
    }
  }
  std::vector<std::uint64_t> ids;
  ids.reserve(tasks_.size());
  for (const auto& [id, task] : tasks_)
    ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (std::uint64_t id : ids)
    end_task(id, stopped);
  for (auto& [id, e] : engines_)
    e.info.alive = false;
  publish_live_count();
}

std::uint64_t Core::new_ref_id() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

void Core::add_ref(std::uint64_t id, std::vector<Buffer> frames) {
  AddRefCommand add{id, std::move(frames), nullptr, {}};
  if (options_.shared_memory && shared_memory_engines_.load() != 0) {
    try {
      // The frames written become views of the segments: the object is kept
      // once, in shared memory, and engines that cannot map it are sent
      // those pages.
      if (auto shared = SharedFrames::move_into(add.frames, options_.shared_memory_min_frame,
                                                shared_memory_writers(options_))) {
        shared_memory_bytes_.fetch_add(shared->written_bytes(), std::memory_order_relaxed);
        add.shared = std::make_shared<const SharedFrames>(std::move(*shared));
      }
    } catch (const error& e) {
      add.segment_failure = e.message();
    }
  }
  // What still borrows the caller's memory is copied now (the segments were
  // written from it directly).
  add.frames = owned_frames(std::move(add.frames));
  if (!commands_.push(std::move(add))) {
    throw error(errc::io_error, "the controller is shutting down; put() was not done");
  }
}

void Core::drop_ref(std::uint64_t id) noexcept {
  try {
    commands_.push(DropRefCommand{id});
  } catch (...) {
    // Out of memory while dropping a handle: the engines keep a cached copy
    // until they exit, which is harmless.
  }
}

std::shared_ptr<TaskState> Core::fetch_ref(const ObjectRef& ref) {
  auto state = std::make_shared<TaskState>(options_.wait_spin);
  Submission s;
  s.request = protocol::ApplyRequest{};
  s.function = std::string(protocol::get_function);
  s.frames = pack_apply_message(protocol::get_function, protocol::RefArgument{ref.id()});
  s.refs = {ref.id()};
  s.held = {ref};  // the object stays while it is being brought
  s.sink = state;
  submit(std::span(&s, 1));
  return state;
}

std::vector<EngineInfo> Core::engines() {
  QueryCommand query;
  auto answer = query.reply.get_future();
  if (!commands_.push(std::move(query))) return {};
  return answer.get();
}

void Core::shutdown_engines(std::vector<int> pids, bool all) {
  ShutdownCommand command{std::move(pids), all, {}};
  auto done = command.done.get_future();
  if (!commands_.push(std::move(command))) return;
  done.get();
}

void Core::publish_live_count() {
  std::size_t n = 0;
  std::size_t sharing = 0;
  for (const auto& [id, e] : engines_) {
    n += e.info.alive ? 1 : 0;
    sharing += e.info.alive && e.info.shared_memory ? 1 : 0;
  }
  shared_memory_engines_.store(sharing);
  std::lock_guard lock(live_mutex_);
  live_count_ = n;
  live_changed_.notify_all();
}

void Core::wait_for_engines(std::size_t n, std::chrono::milliseconds timeout,
                            const std::string& advertised) {
  std::unique_lock lock(live_mutex_);
  if (!live_changed_.wait_for(lock, timeout,
                              [&] { return live_count_ >= n || stopping_.load(); }) ||
      live_count_ < n) {
    throw error(errc::timeout,
                std::to_string(live_count_) + " of " + std::to_string(n) +
                    " engines registered within " + std::to_string(timeout.count()) + " ms at " +
                    advertised + (advertised == endpoint_ ? "" : " (bound as " + endpoint_ + ")") +
                    "; check that the engines were started with this controller's connection "
                    "info (--connection-file, or CANNERY_CONNECTION_INFO), and that they can "
                    "reach " +
                    advertised);
  }
}

ControllerStats Core::stats() const {
  ControllerStats s;
  s.bytes_sent = bytes_sent_.load();
  s.bytes_received = bytes_received_.load();
  s.messages_sent = messages_sent_.load();
  s.messages_received = messages_received_.load();
  s.messages_refused = messages_refused_.load() + heart_->refused();
  s.heartbeats_received = heart_->heartbeats();
  s.ignored_replies = ignored_replies_.load();
  s.unknown_peer_messages = unknown_peer_messages_.load() + heart_->unknown_heartbeats();
  s.engines_died = engines_died_.load();
  s.re_registrations = re_registrations_.load();
  s.tasks_retried = tasks_retried_.load();
  s.shared_memory_bytes = shared_memory_bytes_.load();
  s.shared_memory_in_place_bytes = shared_memory_in_place_bytes_.load();
  s.shared_memory_sends = shared_memory_sends_.load();
  s.kept_results = kept_results_.load();
  s.fetch_requests = fetch_requests_.load();
  s.relay_fetches = relay_fetches_.load();
  s.relay_bytes_sent = relay_bytes_sent_.load();
  return s;
}

}  // namespace cannery::detail
