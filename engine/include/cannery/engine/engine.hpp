#pragma once
// Engine: connects to a controller, registers, and runs the functions it is
// asked to run (docs/protocol.md is the exact protocol).
//
//   cannery::EngineOptions options;
//   options.connection_file = connection_file;  // written by the controller
//   cannery::Engine engine(options);
//   cannery::register_builtin_functions(engine.functions());  // add, trace_scaled, ...
//   engine.function("norm", [](Eigen::Ref<const Eigen::MatrixXd> m) { return m.norm(); });
//   engine.run();  // until shutdown_request, stop(), or SIGTERM/SIGINT
//
// Threads: run()'s thread does the work socket's I/O (the DEALER, the
// Session) and runs requests one at a time, in arrival order, as they are
// received: no hand-off between threads on a task's path. A second thread,
// the heart, sends heartbeats on a socket of its own and notes the
// controller's answers (docs/protocol.md, "heartbeat"), so neither a long
// task nor a long transfer on the work socket is taken for silence on either
// side.
//
// Every engine also has the function "cannery.engine_stats" (no arguments):
// its EngineStats as a dict of integers, for a controller to read.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "cannery/canning/options.hpp"
#include "cannery/engine/functions.hpp"
#include "cannery/messaging/connection_file.hpp"
#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/protocol.hpp"

namespace cannery {

namespace detail {
struct DataPlaneCounters;
class WakeFd;
}  // namespace detail

struct EngineOptions {
  // Where the controller is and which key signs messages: the connection
  // file's contents, or (when `connection` is empty) its path.
  std::optional<ConnectionInfo> connection;
  std::filesystem::path connection_file;

  // Interval of registration attempts until the controller's
  // registration_reply sets heartbeat_ms (and allowed_misses) for the rest.
  std::chrono::milliseconds heartbeat{500};
  int allowed_misses = 10;
  // run() gives up with cannery::error(timeout), naming the endpoint it
  // tried, when the controller has not answered the first registration
  // within this time (an unreachable address, a controller that is not
  // running). Once registered, a lost controller is waited for without
  // bound. 0: wait forever.
  std::chrono::milliseconds register_timeout{60'000};
  // This engine's rank among the processes its launcher started
  // (launcher_rank(): MPI, Slurm), sent at registration.
  std::optional<std::int64_t> rank;

  // This engine's CURVE key pair; needed when the connection names a
  // curve_server_key (the controller must allow its public key).
  std::optional<CurveKeyPair> curve_keys;
  // Accept an empty key (unsigned messages); logged as a warning.
  bool insecure = false;
  // Sign and require per-buffer digests (docs/messaging.md); must match the
  // controller's setting.
  bool buffer_digests = false;
  // Offer the controller to receive put() objects through shared memory when
  // it runs on this host (docs/controller.md, "Shared memory for local
  // engines"). false: always over the socket.
  bool shared_memory = true;
  // Bind a data socket from which other engines fetch the results this one
  // keeps (docs/controller.md, "Results that stay on engines"); without it
  // the engine does not announce the data_plane capability.
  bool data_plane = true;
  // How long a fetch from another engine's data socket may take.
  std::chrono::milliseconds fetch_timeout{60'000};
  // A relayed put's source that sends nothing for this long is given up for
  // the next one the controller named (docs/controller.md, "Large puts to
  // many engines"). A live source that waits for bytes itself says so every
  // quarter second, so this only has to exceed one piece's (1 MiB) transfer.
  std::chrono::milliseconds relay_stall_timeout{5'000};
  // Bounds for uncanning arguments and for each received frame (ZMQ_MAXMSGSIZE).
  Limits limits;
  std::int64_t max_frame_bytes = std::int64_t{4} << 30;
  // How long unsent replies may hold up the end of run().
  std::chrono::milliseconds linger{200};
  // Run the functions at this much lower priority (a nice increment, 0 to
  // 19) than the engine's heartbeat and I/O threads: run() raises its own
  // thread's nice value by it once those threads are started. Engines that
  // outnumber their host's cores then leave the controller there, which they
  // all wait on, its share of the CPU (docs/engine.md, "Work priority").
  // The calling thread keeps the lower priority after run() returns: a
  // process needs privileges to raise it again.
  int work_nice = 0;

  // Stop on SIGTERM or SIGINT: run() installs handlers for its duration
  // (a second signal ends the process at once, exit status 128 + signal).
  bool stop_on_signals = false;
  // Random when empty; the routing id is "engine-<uuid>".
  std::string uuid;
  // The protocol version announced at registration ("major.minor",
  // protocol.hpp). Leave it: another value is for testing how controllers
  // meet engines of other versions (cannery-engine --announce-protocol).
  std::string protocol = protocol::to_string(protocol::version);
  // Log lines (refused messages, lost controller, ...); standard error when
  // empty. Called from run()'s thread and from the heartbeat thread, never at
  // once.
  std::function<void(std::string_view)> log_sink;
};

// Counters of an engine; see Engine::stats().
struct EngineStats {
  std::uint64_t registrations = 0;      // registration_replies accepted
  std::uint64_t controller_losses = 0;  // times it registered again: the controller's heart
                                        // fell silent, or it did not know this engine
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeats_answered = 0;
  std::uint64_t refused_messages = 0;   // on either socket (bad signature, malformed, ...)
  std::uint64_t requests_answered = 0;  // apply/map/push/pull requests, alone or in batches
  // The data plane: objects (and their bytes) this engine sent to other
  // engines from its data socket, and fetched from theirs.
  std::uint64_t objects_served = 0;
  std::uint64_t bytes_served = 0;
  std::uint64_t objects_fetched = 0;
  std::uint64_t bytes_fetched = 0;
};

class Engine {
 public:
  // Reads the connection file (if given instead of `connection`) and checks
  // the options: throws io_error / invalid_argument naming what is wrong.
  explicit Engine(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Register functions before run() (throws invalid_argument while running).
  FunctionRegistry& functions();
  const FunctionRegistry& functions() const noexcept { return functions_; }
  template <class F>
  void function(std::string name, F&& f) {
    functions().function(std::move(name), std::forward<F>(f));
  }

  // Serves until a shutdown_request, stop(), or (with stop_on_signals) a
  // SIGTERM/SIGINT; then waits for the task in progress to finish, drops the
  // ones not started, and returns. Once per Engine. Throws io_error when the
  // socket cannot be set up (a bad endpoint).
  void run();
  // Thread-safe; run() returns once the current task (if any) has ended.
  void stop() noexcept;

  // The id from the last registration_reply; empty until registered and
  // while registering again.
  std::optional<int> id() const noexcept;
  const std::string& uuid() const noexcept { return uuid_; }
  std::string routing_id() const;
  // Messages refused (bad signature, malformed, replayed, ...).
  std::uint64_t refused_messages() const noexcept { return refused_.load(); }
  // Number of times a registration_reply was accepted.
  std::uint64_t registrations() const noexcept { return registrations_.load(); }
  // Thread-safe; refused_messages lags by up to 100 ms while a task runs.
  EngineStats stats() const noexcept;

 private:
  class Loop;

  EngineOptions options_;
  ConnectionInfo connection_;
  std::string endpoint_;
  std::string uuid_;
  FunctionRegistry functions_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> ran_{false};
  std::atomic<int> id_{-1};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> registrations_{0};
  std::atomic<std::uint64_t> controller_losses_{0};
  std::atomic<std::uint64_t> heartbeats_sent_{0};
  std::atomic<std::uint64_t> heartbeats_answered_{0};
  std::atomic<std::uint64_t> requests_answered_{0};
  std::unique_ptr<detail::DataPlaneCounters> data_counters_;
  // Wakes run()'s wait for messages: stop(), stop signals, the heart's news.
  std::unique_ptr<detail::WakeFd> wake_;
};

}  // namespace cannery
