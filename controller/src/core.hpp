#pragma once
// The controller's core: the ROUTER socket and the I/O thread that owns it,
// the engine registry, the task tables and the scheduler. Heartbeats are
// answered apart, by the HeartMonitor, which the core asks who is alive.
//
// Everything below "I/O thread state" is touched only by the I/O thread.
// Other threads reach it through the CommandQueue; results leave through
// TaskSinks. Each task lives in `tasks_` from submission to its one end;
// removing it there is what makes every later reply for it a no-op.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "cannery/controller/options.hpp"
#include "cannery/controller/stats.hpp"
#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/object_server.hpp"
#include "cannery/messaging/receive_memory.hpp"
#include "cannery/messaging/refusals.hpp"
#include "cannery/messaging/session.hpp"
#include "command_queue.hpp"
#include "heart_monitor.hpp"
#include "host.hpp"
#include "relations.hpp"
#include "scheduler.hpp"

namespace cannery::detail {

class Core final : public RefReleaser {
 public:
  using Clock = std::chrono::steady_clock;

  // Binds the ROUTER (the thread starts with start()).
  Core(const ControllerOptions& options, const std::string& key);
  ~Core() override;
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  // The endpoint as bound (a tcp port filled in).
  const std::string& bound_endpoint() const noexcept { return endpoint_; }
  const std::string& heart_endpoint() const noexcept { return heart_->endpoint(); }

  void start();
  // Ends the I/O thread; every task not ended yet fails. Idempotent.
  void stop() noexcept;

  // Moves the tasks out of `tasks`.
  void submit(std::span<Submission> tasks) { commands_.push_tasks(tasks); }
  // Unique in the process, so a ref given to the wrong controller is refused
  // rather than mistaken for one of its own.
  static std::uint64_t new_ref_id() noexcept;
  // Writes the large frames to shared memory first when an engine can use
  // them there (on the caller's thread and writer threads it starts: the I/O
  // thread never waits for it), then copies what still borrows the caller's
  // memory.
  void add_ref(std::uint64_t id, std::vector<Buffer> frames);
  void drop_ref(std::uint64_t id) noexcept override;
  std::shared_ptr<TaskState> fetch_ref(const ObjectRef& ref) override;
  RefStats ref_stats(std::uint64_t id) const override;

  std::vector<EngineInfo> engines();
  // Sends shutdown_request to the engines of this host with these pids, or to
  // all engines; returns once sent.
  void shutdown_engines(std::vector<int> pids, bool all);
  // `advertised`: the endpoint the engines were given, for the error.
  void wait_for_engines(std::size_t n, std::chrono::milliseconds timeout,
                        const std::string& advertised);
  ControllerStats stats() const;

 private:
  struct Task {
    Submission request;
    bool counted_pending = true;  // still counts against max_pending
  };
  struct Engine {
    EngineInfo info;
    std::string routing_id;
    Buffer routing_frame;  // the same bytes, ready to send
    Clock::time_point last_seen;
    Clock::time_point died_at;        // when last declared dead
    std::deque<std::uint64_t> queue;  // tasks aimed at this engine, waiting for room
    std::uint64_t last_assigned = 0;
    std::int64_t attempt = -1;  // the latest registration attempt's number (its `registrations`)
    bool leaving = false;       // sent a shutdown_request: its end is expected, not news
    bool batches = false;       // takes batch_request (it said so when registering)
    bool doomed = false;        // found dead this round: nothing more is sent to it
    bool relay = false;         // takes relayed puts (it said so when registering)
    std::string shm_domain;     // which /dev/shm it sees; empty: unknown
    // Its data socket's CURVE public key, when the cluster uses CURVE.
    std::optional<std::string> data_curve_key;
    // Compresses what is sent to it (a tcp link to another host); null: nothing.
    std::shared_ptr<FrameCompressor> compressor;
  };
  struct Ref {
    std::vector<Buffer> frames;
    // The large frames in shared memory, for engines that see it: they get
    // placeholders over the socket and the segments' descriptor.
    std::shared_ptr<const SharedFrames> shared;
    std::size_t uses = 0;  // tasks not yet ended that refer to it
    bool dropped = false;  // the last ObjectRef is gone
    // A result kept on engines (no frames here): what made it, where it was
    // made, and why it is lost once no live engine holds it.
    struct Kept {
      std::string function;
      int engine = -1;  // -1 until its task ended
      std::optional<std::string> lost;
    };
    std::optional<Kept> kept;
    // A relayed put: the engines that receive it for their /dev/shm, in the
    // order they joined (each fetches from the one before, the first from
    // the controller), and the receiver of each /dev/shm.
    struct Relay {
      std::vector<int> chain;
      std::unordered_map<std::string, int> receiver_of;
    };
    std::optional<Relay> relay;
  };

  // Binds the relay socket beside the engines' one (core_relay.cpp).
  void start_relay(SessionOptions session);
  void run() noexcept;
  void loop();
  void handle(Command& command);
  void accept(Submission&& submission);
  bool receive_available();  // true when more may be waiting
  void on_message(Message& message);
  // Refuses (and tells) an engine of another major protocol version; false then.
  bool check_version(const Message& message);
  // Whether large frames to and from this registering engine are compressed
  // (ControllerOptions::compression): a tcp link to another host.
  bool compresses_link_to(const Engine& engine, const protocol::RegistrationRequest& request) const;
  void on_registration(const protocol::RegistrationRequest& request, const Message& message);
  // Moves the result out of `buffers`.
  void on_reply(Engine& engine, const protocol::ApplyReply& reply, std::span<Buffer> buffers);
  void on_batch_reply(Engine& engine, Message& message);
  // Tasks per batch_request at most: more parts would only delay the first
  // replies of a long queue.
  static constexpr std::size_t max_batch = 64;
  void dispatch();
  void assign(Engine& engine, std::uint64_t id);
  void send_assigned(Engine& engine, std::span<const std::uint64_t> ids);
  bool send_refs(Engine& engine, const Task& task);
  // Whether `ref` goes to `engine` by relay rather than in a put_request.
  bool relays(const Engine& engine, const Ref& ref) const;
  // Tells `engine` where to fetch the relayed put `ref_id` from, and adds it
  // to the relay (core_relay.cpp).
  bool send_relayed(Engine& engine, std::uint64_t ref_id, Ref& ref);
  void on_fetch_report(Engine& engine, const protocol::FetchReport& report);
  // Serves a put from the relay socket when it is large enough to relay.
  void offer_for_relay(std::uint64_t ref_id, const Ref& ref);
  void add_ref_stats(std::uint64_t ref_id, const RefStats& more);
  // Whether the task needs engines with a data socket (it keeps its result,
  // or takes a kept one).
  bool needs_data_plane(const Submission& s) const;
  // The live engine holding a kept ref, if any.
  Engine* holder_of(std::uint64_t ref_id);
  // ObjectLost for the first lost kept ref the task takes, if any; `why`
  // instead of the ref's own reason when given.
  std::optional<ObjectLost> lost_ref_of(const Submission& s,
                                        const std::optional<std::string>& why = {}) const;
  // A keep_result task ended well on `engine`: its ref is held there.
  void note_kept(const Task& task, Engine& engine);
  // Requests that named shared-memory segments, for stats(), added once the
  // message carrying them is sent.
  struct SharedSends {
    std::uint64_t requests = 0;
    std::uint64_t in_place_bytes = 0;
  };
  void count_sent(const SharedSends& sends) noexcept;
  // The request task `id` sends to `engine`, and, when some of its frames
  // are SharedArrays and the engine sees this host's /dev/shm, the frames to
  // send instead of the task's: placeholders, their segments named in the
  // request (`sends` told).
  std::pair<WorkRequest, std::optional<std::vector<Buffer>>> request_for(const Engine& engine,
                                                                         std::uint64_t id,
                                                                         SharedSends& sends) const;
  template <protocol::MessageType T>
  bool send(Engine& engine, const T& content, std::vector<Buffer> buffers = {}) {
    return send(engine, session_.message(T::type, Object(protocol::encode(content))),
                std::move(buffers));
  }
  bool send(Engine& engine, Message message, std::vector<Buffer> buffers);
  // To a peer that is not a live engine (unknown, or refused).
  template <protocol::MessageType T>
  void send_to(const Buffer& routing_frame, const T& content);
  void tick(Clock::time_point now);
  // When the engine was last heard from, on either socket.
  Clock::time_point last_heard(const Engine& engine) const;
  // Records that `engine` is dead; declare_deaths() acts on it. Nothing is
  // sent to it from now on.
  void mark_dead(Engine& engine, const std::string& why);
  // The one place where engines die: once per round of the loop (and at once
  // where a registration replaces an engine). Re-queues or fails their tasks
  // and forgets what they held.
  void declare_deaths();
  // One engine's death, for declare_deaths().
  void bury(int id, const std::string& why);
  // Alive again (or for the first time) under `routing`.
  void revive(Engine& engine, const std::string& routing, const Buffer& routing_frame);
  // Aborts with what disagrees when the core's indexes do not (a build with
  // CANNERY_CHECK_INVARIANTS runs it after every round of the loop).
  void check_invariants() const;
  // Forgets the longest-dead engines beyond max_dead_engine_records. Only
  // between rounds of the loop: it erases from engines_.
  void forget_old_dead_engines();
  // Counts and logs a registration_request it will not act on.
  void refuse_registration(const Message& message, const std::string& why);
  void end_task(std::uint64_t id, std::optional<TaskFailure> failure, int engine_id = -1,
                std::vector<Buffer> frames = {});
  void release_ref_use(std::uint64_t ref_id);
  void maybe_release(std::uint64_t ref_id);
  void fail_everything();
  void publish_live_count();
  Engine* engine_by_routing(const std::string& routing_id);

  const ControllerOptions options_;
  // Two I/O threads for the engines' socket: large messages to several
  // engines go out in parallel instead of one connection after another.
  static constexpr IoThreads io_threads_{2};
  zmq::context_t context_;
  std::unique_ptr<CurveAuthenticator> authenticator_;
  zmq::socket_t router_;
  std::string endpoint_;
  std::unique_ptr<HeartMonitor> heart_;
  // The puts the relay socket serves, and RefStats of live puts (written by
  // the I/O and relay threads).
  mutable std::mutex relay_mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<const std::vector<Buffer>>> relay_objects_;
  mutable std::mutex ref_stats_mutex_;
  std::unordered_map<std::uint64_t, RefStats> ref_stats_;
  // The relay socket (a thread of its own, "cannery-relay"), from which
  // engines fetch relayed puts; null when relays are off. stop() ends it.
  std::unique_ptr<ObjectServer> relay_;
  Session session_;
  RefusalLog refusals_;
  // Within the bound of keep_receive_memory_warm(), when the program set one.
  ReceiveMemoryKeeper receive_memory_;
  CommandQueue commands_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Counters readable from any thread.
  std::atomic<std::uint64_t> bytes_sent_{0}, bytes_received_{0}, messages_sent_{0},
      messages_received_{0}, messages_refused_{0}, ignored_replies_{0}, unknown_peer_messages_{0},
      engines_died_{0}, re_registrations_{0}, tasks_retried_{0}, shared_memory_bytes_{0},
      shared_memory_in_place_bytes_{0}, shared_memory_sends_{0}, kept_results_{0},
      fetch_requests_{0}, relay_fetches_{0}, relay_bytes_sent_{0};
  // Live engines that share this host's /dev/shm: put() writes a segment
  // only when there is one.
  std::atomic<std::size_t> shared_memory_engines_{0};

  // Live engine count, for wait_for_engines.
  mutable std::mutex live_mutex_;
  std::condition_variable live_changed_;
  std::size_t live_count_ = 0;

  // I/O thread state.
  std::map<int, Engine> engines_;
  std::unordered_map<std::string, int> by_routing_;  // live engines only
  std::vector<std::pair<int, std::string>> doomed_;  // marked dead, and why
  ManyToOne<std::uint64_t, int> placement_;          // tasks in flight -> engine
  ManyToMany<std::uint64_t, int> holdings_;          // refs <-> engines that cache them
  std::unordered_map<std::string, int> by_uuid_;
  int next_engine_id_ = 0;
  std::unordered_map<std::uint64_t, Task> tasks_;
  std::deque<std::uint64_t> any_queue_;  // any_engine tasks waiting for room
  std::uint64_t next_task_id_ = 0;
  std::uint64_t assign_seq_ = 0;
  std::unordered_map<std::uint64_t, Ref> refs_;
  using Deadline = std::pair<Clock::time_point, std::uint64_t>;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  Clock::time_point next_liveness_check_;
  std::size_t released_ = 0;  // pending tasks that left the queue this round
  std::mt19937_64 rng_{std::random_device{}()};
  std::vector<Candidate> candidates_;                   // reused by dispatch
  std::vector<Candidate> data_candidates_;              // those with a data socket, reused
  std::map<int, std::vector<std::uint64_t>> assigned_;  // this round's tasks per engine, reused
};

}  // namespace cannery::detail
