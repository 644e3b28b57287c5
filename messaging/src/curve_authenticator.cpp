// The ZAP handler: admits CURVE clients whose public key is allowed.

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <zmq_addon.hpp>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/detail/poll.hpp"
#include "curve_keys.hpp"

namespace cannery {

struct CurveAuthenticator::State {
  mutable std::mutex mutex;
  std::set<detail::BinaryKey> allowed;  // guarded by mutex
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};

  zmq::socket_t zap;    // REP, used only by the thread
  zmq::socket_t wake;   // PAIR, the destructor's end
  zmq::socket_t waker;  // PAIR, the thread's end
  std::thread thread;

  bool allows(const zmq::message_t& key) const {
    if (key.size() != detail::curve_key_bytes) return false;
    detail::BinaryKey k{};
    std::copy_n(static_cast<const std::uint8_t*>(key.data()), detail::curve_key_bytes, k.begin());
    const std::lock_guard lock(mutex);
    return allowed.count(k) != 0;
  }

  struct Verdict {
    const char* status;
    const char* text;
    std::string user_id;
  };

  // RFC 27 request: version, request id, domain, address, identity, mechanism,
  // credentials... For CURVE the one credential is the client's 32-byte public
  // key, which libzmq has already verified the client holds the secret for.
  Verdict judge(const std::vector<zmq::message_t>& request) {
    if (request.size() < 6 || request[0].to_string_view() != "1.0") {
      ++refused;
      return {"500", "malformed ZAP request", {}};
    }
    if (request[5].to_string_view() != "CURVE") {
      ++refused;
      return {"400", "cannery accepts only CURVE clients", {}};
    }
    if (request.size() != 7 || !allows(request[6])) {
      ++refused;
      return {"400", "client public key is not allowed", {}};
    }
    ++accepted;
    return {"200", "OK",
            detail::encode_curve_key(static_cast<const std::uint8_t*>(request[6].data()))};
  }

  void answer_one() {
    std::vector<zmq::message_t> request;
    if (!zmq::recv_multipart(zap, std::back_inserter(request), zmq::recv_flags::dontwait)) return;
    const Verdict verdict = judge(request);
    const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
    // A REP socket must answer every request, even a malformed one, or it
    // cannot receive the next.
    zap.send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(verdict.status)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string_view(verdict.text)), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(verdict.user_id), zmq::send_flags::sndmore);
    zap.send(zmq::message_t(), zmq::send_flags::none);  // no metadata
  }

  void run() {
    std::array<zmq::pollitem_t, 2> items{
        {{zap.handle(), 0, ZMQ_POLLIN, 0}, {waker.handle(), 0, ZMQ_POLLIN, 0}}};
    for (;;) {
      try {
        detail::poll(items, std::chrono::milliseconds(-1));
        if (items[1].revents & ZMQ_POLLIN) return;
        if (items[0].revents & ZMQ_POLLIN) answer_one();
      } catch (const zmq::error_t& e) {
        if (e.num() == ETERM) return;
        // Stop answering but keep the ZAP endpoint bound: handshakes then wait
        // forever (fail closed) instead of skipping authentication.
        std::fprintf(stderr, "cannery: CURVE authenticator stopped: %s\n", e.what());
        return;
      }
    }
  }
};

CurveAuthenticator::CurveAuthenticator(zmq::context_t& context,
                                       std::vector<std::string> allowed_public_keys)
    : state_(std::make_unique<State>()) {
  for (const auto& key : allowed_public_keys)
    state_->allowed.insert(detail::decode_curve_key(key, "allowed client public key"));

  static std::atomic<std::uint64_t> instances{0};
  const std::string wake_endpoint =
      "inproc://cannery.curve-authenticator.wake." + std::to_string(instances++);
  try {
    state_->zap = zmq::socket_t(context, zmq::socket_type::rep);
    state_->wake = zmq::socket_t(context, zmq::socket_type::pair);
    state_->waker = zmq::socket_t(context, zmq::socket_type::pair);
    for (auto* socket : {&state_->zap, &state_->wake, &state_->waker})
      socket->set(zmq::sockopt::linger, 0);
    state_->wake.bind(wake_endpoint);
    state_->waker.connect(wake_endpoint);
    state_->zap.bind(detail::zap_endpoint);
  } catch (const zmq::error_t& e) {
    if (e.num() == EADDRINUSE)
      throw error(errc::invalid_argument,
                  "this ZeroMQ context already has a ZAP handler (inproc://zeromq.zap.01 is "
                  "bound); make one CurveAuthenticator per context and share it");
    throw error(errc::invalid_argument, std::string("could not start the CURVE authenticator: ") +
                                            e.what() + "; check that the context is not closed");
  }
  // The sockets move to the thread here; starting a thread is the full memory
  // barrier libzmq asks for when a socket changes threads.
  state_->thread = std::thread([state = state_.get()] { state->run(); });
}

CurveAuthenticator::~CurveAuthenticator() {
  try {
    state_->wake.send(zmq::str_buffer("stop"), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
    // Only a terminating context refuses this, and it wakes the thread with ETERM.
  }
  state_->thread.join();
  // Closing a socket releases its inproc endpoint later, on libzmq's reaper
  // thread; unbinding releases it now, so a new authenticator can follow.
  try {
    state_->zap.unbind(detail::zap_endpoint);
  } catch (const zmq::error_t&) {
    // A terminating context; the endpoint goes with it.
  }
}

void CurveAuthenticator::allow(std::string_view public_key) {
  const detail::BinaryKey key = detail::decode_curve_key(public_key, "client public key to allow");
  const std::lock_guard lock(state_->mutex);
  state_->allowed.insert(key);
}

void CurveAuthenticator::revoke(std::string_view public_key) {
  const detail::BinaryKey key = detail::decode_curve_key(public_key, "client public key to revoke");
  const std::lock_guard lock(state_->mutex);
  state_->allowed.erase(key);
}

bool CurveAuthenticator::is_allowed(std::string_view public_key) const {
  if (!is_curve_key(public_key)) return false;
  const detail::BinaryKey key = detail::decode_curve_key(public_key, "client public key");
  const std::lock_guard lock(state_->mutex);
  return state_->allowed.count(key) != 0;
}

std::uint64_t CurveAuthenticator::accepted() const noexcept {
  return state_->accepted.load();
}
std::uint64_t CurveAuthenticator::refused() const noexcept {
  return state_->refused.load();
}

}  // namespace cannery
