#pragma once
// Counters of a Controller, for tests, benchmarks and monitoring.

#include <cstdint>

namespace cannery {

struct ControllerStats {
  std::uint64_t bytes_sent = 0;  // sum of frame sizes handed to the socket
  // Sum of frame sizes of the valid messages from engines on the work
  // socket, as they arrived (compressed frames count compressed).
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;          // to engines on the work socket
  std::uint64_t messages_received = 0;      // valid (verified) messages on the work socket
  std::uint64_t messages_refused = 0;       // failed verification or malformed, either socket
  std::uint64_t heartbeats_received = 0;    // from known engines, on the heart socket
  std::uint64_t ignored_replies = 0;        // replies for tasks already ended, or unknown
  std::uint64_t unknown_peer_messages = 0;  // answered with unknown_engine
  std::uint64_t engines_died = 0;           // declared dead (silence, unreachable, restart)
  // registration_requests from engines registered and alive, from the same
  // process: the engine took this controller for gone. 0 on a healthy cluster.
  std::uint64_t re_registrations = 0;
  std::uint64_t tasks_retried = 0;        // resubmitted after their engine died
  std::uint64_t shared_memory_bytes = 0;  // put() bytes written to shared memory
  // SharedArray bytes that messages to engines on this host named where they
  // are instead of carrying (counted per message, put() or task).
  std::uint64_t shared_memory_in_place_bytes = 0;
  std::uint64_t shared_memory_sends = 0;  // requests that named a segment
  // Results kept on engines (ApplyOptions::keep_result), and fetch_requests
  // that told an engine to fetch one from another engine's data socket (the
  // bytes go engine to engine: they are not in bytes_sent).
  std::uint64_t kept_results = 0;
  std::uint64_t fetch_requests = 0;
  // Large arguments by value put for the caller (auto_put_min_bytes), and the
  // tasks given one of them again while it was still cached.
  std::uint64_t auto_puts = 0;
  std::uint64_t auto_put_reuses = 0;
  // fetch_requests that told an engine to fetch a relayed put (from another
  // engine or from the controller's data socket), and the bytes the
  // controller's data socket sent (also in bytes_sent).
  std::uint64_t relay_fetches = 0;
  std::uint64_t relay_bytes_sent = 0;
};

// How the object of one ref travelled (ObjectRef::stats()), while the ref
// lives.
struct RefStats {
  // Bytes of it the controller sent: put_requests, and pieces from its
  // data socket for relayed puts.
  std::uint64_t controller_bytes = 0;
  // Bytes of it that engines fetched from other engines (relayed puts), as
  // the fetching engines reported them.
  std::uint64_t engine_bytes = 0;
  // Engines that mapped it from another engine of their host.
  std::uint64_t shared_memory_handoffs = 0;
  // Engines told to fetch it by relay.
  std::uint64_t relay_fetches = 0;
};

}  // namespace cannery
