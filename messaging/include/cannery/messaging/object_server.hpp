#pragma once
// A ROUTER socket, served by a thread of its own, from which peers fetch
// objects (docs/protocol.md, "Relayed puts", "object_request"): whole (object_request, the
// kept results of 1.2) or piece by piece (chunk_request, relayed puts, 1.3),
// including objects still arriving here (Arrival), and, for a peer that sees
// the same /dev/shm, through shared memory. Engines serve their caches with
// one; the controller serves relayed puts with one.
//
// Every message is signed with the cluster's key: requests that fail
// verification are counted, logged and never answered. A request for bytes
// that have not arrived yet waits here (at most `max_waiting` of them); if
// they still have not after `pending_after`, the answer is `pending`, so
// that the asker can tell a live source that waits from a dead one.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cannery/canning/buffer.hpp"
#include "cannery/messaging/arrival.hpp"
#include "cannery/messaging/detail/wake_fd.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::detail {

// What a server holds under a ref: a whole object, or one arriving.
struct Holding {
  std::shared_ptr<const std::vector<Buffer>> frames;
  std::shared_ptr<const Arrival> arrival;
  explicit operator bool() const noexcept { return frames || arrival; }
};

class ObjectServer {
 public:
  struct Setup {
    SessionOptions session;
    std::string bind_endpoint;  // tcp://ADDRESS:* or ipc://PATH
    std::int64_t max_frame_bytes = 0;
    std::string thread_name;  // at most 15 characters
    // Who the server belongs to, for refusals' log lines ("engine").
    std::string peer_kind;
    // Called on the server's thread: it must be thread-safe.
    std::function<Holding(std::uint64_t ref)> lookup;
    // Called on the server's thread for every object (whole = true) or piece
    // sent, with its ref and bytes.
    std::function<void(std::uint64_t ref, std::uint64_t bytes, bool whole)> served;
    // Which /dev/shm this process sees (shm_domain()); none: never answers
    // through shared memory.
    std::optional<std::string> shm_domain;
    std::chrono::milliseconds pending_after{250};
    // Applied to the socket before it binds: CURVE, when the cluster uses it.
    std::function<void(zmq::socket_ref)> before_bind;
    // How many requests may wait for bytes at once. One more is answered
    // `pending` at once, as it would be after pending_after: a peer that
    // asks faster than bytes arrive cannot grow the queue without bound.
    std::size_t max_waiting = 4096;
  };

  // Binds (throws io_error naming the endpoint when it cannot) and starts
  // serving.
  ObjectServer(zmq::context_t& context, Setup setup);
  // Stops the thread and closes the socket.
  ~ObjectServer();
  ObjectServer(const ObjectServer&) = delete;
  ObjectServer& operator=(const ObjectServer&) = delete;

  // The socket as bound.
  const std::string& endpoint() const noexcept { return endpoint_; }
  // Messages refused.
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Waiting {
    Message request;
    protocol::ChunkRequest wanted;
    Holding holding;
    std::chrono::steady_clock::time_point since;
  };
  void run() noexcept;
  // Until a request may be read, the destructor asks to stop, or a request
  // waiting for bytes should be looked at again.
  void wait_for_request();
  void serve(Message request);
  void serve_object(const Message& request);
  void serve_chunk(Message request);
  // Answers `w` when it can; false while it must wait.
  bool answer(Waiting& w, bool pending_due);
  void reply(const Message& request, const protocol::ChunkReply& content,
             std::vector<Buffer> buffers = {});

  Setup setup_;
  zmq::socket_t router_;
  Session session_;  // the server thread's only
  std::string endpoint_;
  std::deque<Waiting> waiting_;  // in the order asked
  std::atomic<bool> stop_{false};
  WakeFd stop_wake_;  // wakes the thread's wait when stop_ is set
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace cannery::detail
