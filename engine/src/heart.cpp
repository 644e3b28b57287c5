#include "heart.hpp"

#include <pthread.h>

#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/detail/poll.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery::detail {

Heart::Heart(zmq::context_t& context, Setup setup)
    : context_(context),
      setup_(std::move(setup)),
      session_(heart_session_options(setup_.session)),
      last_answer_(Clock::now().time_since_epoch().count()),
      thread_([this] { run(); }) {
  ::pthread_setname_np(thread_.native_handle(), "cannery-heart");
}

Heart::~Heart() {
  stopping_.store(true);
  wake_.notify();
  thread_.join();
}

void Heart::beat(const std::string& endpoint, std::chrono::milliseconds period) {
  {
    std::lock_guard lock(mutex_);
    target_ = Target{endpoint, period, target_.generation + 1};
    last_answer_.store(Clock::now().time_since_epoch().count());
    unknown_.store(false);
  }
  wake_.notify();
}

void Heart::pause() {
  {
    std::lock_guard lock(mutex_);
    target_ = Target{{}, target_.period, target_.generation + 1};
  }
  wake_.notify();
}

Heart::Clock::time_point Heart::last_answer() const noexcept {
  return Clock::time_point(Clock::duration(last_answer_.load()));
}

std::optional<zmq::socket_t> Heart::open(const Target& target) {
  if (target.endpoint.empty()) return std::nullopt;
  zmq::socket_t socket(context_, zmq::socket_type::dealer);
  configure_heart_socket(socket, setup_.io_threads);
  socket.set(zmq::sockopt::routing_id, setup_.routing_id);
  // While disconnected, heartbeats are dropped rather than queued: a burst of
  // stale ones on reconnection says nothing.
  socket.set(zmq::sockopt::immediate, 1);
  if (setup_.curve_keys) {
    make_curve_client(socket, *setup_.curve_keys, setup_.curve_server_public_key);
  }
  try {
    socket.connect(target.endpoint);
  } catch (const zmq::error_t& e) {
    // Unanswered heartbeats then make run()'s thread register again.
    session_.refusals().warn("cannery-engine: cannot connect the heart socket to '" +
                             target.endpoint + "': " + e.what());
    return std::nullopt;
  }
  return socket;
}

void Heart::run() noexcept {
  std::uint64_t generation = 0;
  std::optional<zmq::socket_t> socket;
  std::chrono::milliseconds period{0};
  Clock::time_point next_beat{};
  try {
    while (!stopping_.load()) {
      {
        std::unique_lock lock(mutex_);
        if (target_.generation != generation) {
          const Target target = target_;
          lock.unlock();
          socket.reset();
          socket = open(target);
          generation = target.generation;
          period = target.period;
          next_beat = Clock::now();
        }
      }
      if (socket && Clock::now() >= next_beat) {
        // Never blocks: with no connection the heartbeat is dropped.
        if (send_frames(*socket,
                        session_.serialize(protocol::make_message(session_, protocol::Heartbeat{})),
                        session_.options().frames, zmq::send_flags::dontwait)) {
          setup_.sent->fetch_add(1, std::memory_order_relaxed);
        }
        next_beat = Clock::now() + period;
      }
      zmq::pollitem_t items[] = {{nullptr, wake_.fd(), ZMQ_POLLIN, 0},
                                 {socket ? socket->handle() : nullptr, 0, ZMQ_POLLIN, 0}};
      const auto wait = socket ? std::chrono::ceil<std::chrono::milliseconds>(
                                     std::max(next_beat - Clock::now(), Clock::duration(0)))
                               : std::chrono::milliseconds(-1);
      detail::poll(std::span(items).first(socket ? 2 : 1), wait);
      if ((items[0].revents & ZMQ_POLLIN) != 0) wake_.clear();
      if (socket && (items[1].revents & ZMQ_POLLIN) != 0) read_answers(*socket, generation);
    }
  } catch (const std::exception& e) {
    // Only a broken context gets here: the controller then stops hearing
    // from this engine and declares it dead, and run()'s thread registers
    // again when the answers stop.
    session_.refusals().warn(std::string("cannery-engine: the heart thread stopped: ") + e.what());
  }
}

void Heart::read_answers(zmq::socket_t& socket, std::uint64_t generation) {
  // Refused messages are counted and logged (rate-limited) by the Session.
  while (std::optional<Message> m = session_.receive(socket, std::chrono::milliseconds(0))) {
    const std::string& type = m->header.msg_type;
    // An answer read after beat() or pause() belongs to the connection they
    // replace: it must not undo what they reset.
    std::lock_guard lock(mutex_);
    if (target_.generation != generation) return;
    if (type == protocol::Heartbeat::type) {
      last_answer_.store(Clock::now().time_since_epoch().count());
      setup_.answered->fetch_add(1, std::memory_order_relaxed);
    } else if (type == protocol::UnknownEngine::type) {
      unknown_.store(true);
      if (setup_.news != nullptr) setup_.news->notify();
    } else {
      session_.refusals().record(error(errc::malformed_message,
                                       "the heart socket takes only heartbeat and "
                                       "unknown_engine, not '" +
                                           type.substr(0, 64) + "'"),
                                 "controller");
    }
  }
}

}  // namespace cannery::detail
