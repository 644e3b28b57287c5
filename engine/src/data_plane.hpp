#pragma once
// The engine's data plane (docs/protocol.md, "fetch_request", "object_request"):
// a ROUTER socket of its own, served by a thread of its own
// ("cannery-data"), from which other engines fetch the objects this engine
// caches (kept results), so that they move engine to engine and never
// through the controller; and the fetch, run on the work loop's thread when
// a fetch_request comes.
//
// Every message is signed with the cluster's key: requests that fail
// verification are counted, logged and never answered.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cannery/canning/options.hpp"
#include "cannery/engine/object_cache.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::detail {

// Bytes and objects that crossed the data plane, for EngineStats.
struct DataPlaneCounters {
  std::atomic<std::uint64_t> objects_served{0};
  std::atomic<std::uint64_t> bytes_served{0};
  std::atomic<std::uint64_t> objects_fetched{0};
  std::atomic<std::uint64_t> bytes_fetched{0};
};

// Where an engine that reached its controller at `controller_endpoint`
// binds its data socket: tcp on the address of this host that the route to
// the controller leaves from (port chosen by the system), or ipc next to
// the system's temporary files when the controller is reached over ipc.
std::string data_bind_endpoint(const std::string& controller_endpoint, const std::string& uuid);

class DataServer {
 public:
  struct Setup {
    SessionOptions session;
    std::string bind_endpoint;  // data_bind_endpoint()
    std::int64_t max_frame_bytes = 0;
    const ObjectCache* cache = nullptr;     // outlives the server
    DataPlaneCounters* counters = nullptr;  // outlives the server
  };

  // Binds (throws io_error naming the endpoint when it cannot) and starts
  // serving.
  DataServer(zmq::context_t& context, Setup setup);
  // Stops the thread and closes the socket.
  ~DataServer();
  DataServer(const DataServer&) = delete;
  DataServer& operator=(const DataServer&) = delete;

  // The socket as bound: what registration_request.data_endpoint names.
  const std::string& endpoint() const noexcept { return endpoint_; }
  // Messages refused on the data socket.
  std::uint64_t refused() const noexcept { return refused_.load(std::memory_order_relaxed); }

 private:
  void run() noexcept;
  void serve(Message request);

  Setup setup_;
  zmq::socket_t router_;
  Session session_;  // the data thread's only
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

// Fetches the object of `request` from the engine at request.endpoint with
// `session` (the caller's thread's), within `timeout`: its frames, checked to
// hold one well-formed object. Throws cannery::error(object_lost) saying why
// when it cannot.
std::vector<Buffer> fetch_object(zmq::context_t& context, Session& session,
                                 const protocol::FetchRequest& request,
                                 std::chrono::milliseconds timeout, const Limits& limits,
                                 std::int64_t max_frame_bytes);

}  // namespace cannery::detail
