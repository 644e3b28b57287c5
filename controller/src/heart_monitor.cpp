#include "heart_monitor.hpp"

#include <pthread.h>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/detail/poll.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery::detail {

HeartMonitor::HeartMonitor(zmq::context_t& context, const IoThreads& io_threads,
                           const std::string& bind_address,
                           const std::optional<CurveKeyPair>& curve_server, SessionOptions session,
                           std::chrono::milliseconds handshake_timeout)
    : socket_(context, zmq::socket_type::router),
      session_(heart_session_options(std::move(session))) {
  // Not ROUTER_MANDATORY: an answer to an engine that just vanished is
  // dropped, and a send never blocks this thread.
  configure_heart_socket(socket_, io_threads);
  socket_.set(zmq::sockopt::handshake_ivl, static_cast<int>(handshake_timeout.count()));
  if (curve_server) make_curve_server(socket_, *curve_server);
  try {
    socket_.bind(bind_address);
  } catch (const zmq::error_t& e) {
    throw error(errc::io_error, "could not bind the heart socket to '" + bind_address +
                                    "': " + e.what() +
                                    " (set ControllerOptions::heartbeat_endpoint to a free "
                                    "address on this host)");
  }
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
}

HeartMonitor::~HeartMonitor() {
  stop();
}

void HeartMonitor::start() {
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "cannery-heart");
}

void HeartMonitor::stop() noexcept {
  stopping_.store(true);
  wake_.notify();
  if (thread_.joinable()) thread_.join();
}

void HeartMonitor::admit(const std::string& routing_id) {
  std::lock_guard lock(mutex_);
  beats_[routing_id] = Clock::now();
}

void HeartMonitor::forget(const std::string& routing_id) {
  std::lock_guard lock(mutex_);
  beats_.erase(routing_id);
}

std::optional<HeartMonitor::Clock::time_point> HeartMonitor::last_beat(
    const std::string& routing_id) const {
  std::lock_guard lock(mutex_);
  auto it = beats_.find(routing_id);
  if (it == beats_.end()) return std::nullopt;
  return it->second;
}

void HeartMonitor::run() noexcept {
  try {
    while (!stopping_.load()) {
      zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0},
                                 {nullptr, wake_.fd(), ZMQ_POLLIN, 0}};
      detail::poll(items, std::chrono::milliseconds(-1));
      if ((items[1].revents & ZMQ_POLLIN) != 0) wake_.clear();
      // Refused messages are counted and logged (rate-limited) by the Session.
      while (std::optional<Message> m = session_.receive(socket_, std::chrono::milliseconds(0))) {
        answer(*m);
      }
    }
  } catch (const std::exception& e) {
    // Only a broken context gets here; the core then declares engines dead
    // as their heartbeats stop arriving, and says why.
    session_.refusals().warn(std::string("cannery controller: the heart thread stopped: ") +
                             e.what());
  }
}

void HeartMonitor::answer(Message& heartbeat) {
  if (heartbeat.identities.size() != 1 || heartbeat.header.msg_type != protocol::Heartbeat::type) {
    session_.refusals().record(
        error(errc::malformed_message,
              "the heart socket takes only heartbeats from engines connected directly, not '" +
                  heartbeat.header.msg_type.substr(0, 64) + "'"),
        "");
    return;
  }
  const std::string routing(heartbeat.identities.front().as_string_view());
  bool known = false;
  {
    std::lock_guard lock(mutex_);
    if (auto it = beats_.find(routing); it != beats_.end()) {
      it->second = Clock::now();
      known = true;
    }
  }
  (known ? heartbeats_ : unknown_).fetch_add(1, std::memory_order_relaxed);
  Message reply =
      session_.message(known ? protocol::Heartbeat::type : protocol::UnknownEngine::type,
                       Object::Dict{}, &heartbeat);
  reply.identities = std::move(heartbeat.identities);
  try {
    session_.send(socket_, std::move(reply));
  } catch (const error&) {
    // Dropped: the engine's next heartbeat is answered instead.
  }
}

}  // namespace cannery::detail
