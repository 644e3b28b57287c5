#pragma once
// Settings of a Controller, of the engines it starts, and of single calls.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/messaging/compression.hpp"
#include "cannery/messaging/curve.hpp"

namespace cannery {

struct ControllerOptions {
  // Where engines connect: the ROUTER binds a free port on this interface...
  std::string interface = "tcp://127.0.0.1";
  // ...unless an explicit endpoint is given ("ipc:///tmp/x/engines",
  // "tcp://0.0.0.0:5555"), which then wins.
  std::string endpoint;
  // The host written into the connection file when the bind address is a
  // wildcard (0.0.0.0, *), which remote engines cannot connect to. Empty: this
  // machine's host name.
  std::string advertised_host;
  // The HMAC key. Empty: a fresh random key (cannery::generate_key()), so a
  // controller is never unsigned by accident.
  std::string key;
  // Run without signatures; only with an empty key, and only when asked.
  bool insecure = false;
  // Where the connection file goes. Empty: a fresh file in a private (0700)
  // temporary directory, removed with the controller.
  std::filesystem::path connection_file;
  // CURVE encryption of the engine socket: the server key pair and the public
  // keys of the engines allowed in. Without it, traffic is signed, not secret.
  std::optional<CurveKeyPair> curve_server;
  std::vector<std::string> curve_allowed_engines;
  // Liveness: each engine sends a heartbeat every `heartbeat` on a socket of
  // its own (not behind work), answered at once; an engine not heard from for
  // heartbeat * allowed_misses is declared dead, and an engine whose
  // heartbeats go unanswered as long registers again.
  std::chrono::milliseconds heartbeat{500};
  int allowed_misses = 4;
  // Where the heart socket binds. Empty: beside the engines' socket, on the
  // same interface with a free port (ipc: the same path + "-heartbeat").
  // Engines learn it when they register; set it when only known ports are
  // open between engines and controller.
  std::string heartbeat_endpoint;
  // A connection that has not finished the ZeroMQ handshake this long after
  // it opened is closed, so that idle connections from anyone do not hold
  // the controller's file descriptors (ZMQ_HANDSHAKE_IVL; libzmq's default is
  // 30 s). With CURVE, a peer whose key is not allowed never finishes it.
  std::chrono::milliseconds handshake_timeout{5000};
  // Largest frame accepted from an engine (ZMQ_MAXMSGSIZE): a larger one
  // closes the connection before it is buffered. A reply's result frames
  // count here; engines bound what they receive the same way.
  std::int64_t max_frame_bytes = std::int64_t{4} << 30;
  // Engines that are alive may register without bound; records of engines
  // declared dead are kept for engines() and for an engine that comes back
  // under its id, up to this many: beyond it, the longest dead are forgotten
  // (one that comes back later gets a new id).
  std::size_t max_dead_engine_records = 1024;
  // Bounded queues: tasks outstanding per engine (the rest wait in the
  // controller), and tasks waiting in the controller before apply()/map()
  // block their caller. Enough outstanding small tasks keep an engine busy
  // while the controller is descheduled; long tasks of uneven length want a
  // small value instead (see docs/controller.md).
  std::size_t max_in_flight_per_engine = 256;
  std::size_t max_pending = 100000;
  // How long AsyncResult and AsyncMapResult waits spin, yielding the CPU to
  // any thread that can run, before they sleep. Waking a sleeping thread
  // costs tens of microseconds, more on a virtual machine: a local round
  // trip that ends within the spin is answered without it (figures in
  // docs/controller.md). The price is up to this much CPU time per wait
  // that is not already over. 0: sleep at once.
  std::chrono::microseconds wait_spin{200};
  // put() objects reach engines on this host through shared memory: each
  // frame of at least `shared_memory_min_frame` bytes is written once to
  // /dev/shm when put() is called (if an engine that shares this host's
  // /dev/shm is registered then), and every such engine maps those pages
  // instead of receiving its own copy over the socket. Frames of a
  // cannery::SharedArray are not written at all, in put() or as a task's
  // arguments: their own segments are named. Engines elsewhere, and engines
  // that registered later, get the frames over the socket. false: always the
  // socket. docs/controller.md, "Shared memory for local engines".
  bool shared_memory = true;
  std::size_t shared_memory_min_frame = std::size_t{1} << 20;
  // Threads that write one put()'s frames to /dev/shm, each into a segment
  // of its own and each with at least 16 MiB of whole frames (tmpfs
  // serializes writes to one file, so only separate segments fill in
  // parallel; figures in docs/controller.md). The caller's thread is one of
  // them. 0: one per core, at most 4.
  std::size_t shared_memory_writers = 0;
  // put() objects of at least `relay_min_bytes` reach engines that do not
  // see this host's /dev/shm by relay (docs/controller.md, "Large puts to
  // many engines"): they leave the controller once, from a data socket of
  // its own, and engines pass them on to one another piece by piece while
  // they receive them, one engine per host, the others of that host mapping
  // its copy. false: each engine gets its own copy from the controller.
  bool relay = true;
  std::size_t relay_min_bytes = std::size_t{4} << 20;
  // How large buffer frames cross tcp links to engines on other hosts
  // (docs/controller.md, "Compression on slow links"), both ways: engines
  // are told to compress their results alike. Never on ipc, loopback or to
  // an engine on this host, whatever this says. None by default: on a fast
  // network compressing costs more than it saves; on a slow one, `auto`
  // compresses what shrinks and stops trying what does not (random
  // doubles).
  LinkCompression compression;
  // A task argument passed by value whose buffers borrow the caller's memory
  // (an lvalue array, a span, ...) for at least this many bytes is put()
  // for the caller: it reaches each engine once (each host once, through
  // shared memory), however many tasks are given it, and is released when
  // the last of those tasks ends. Tasks given the same object (same memory,
  // same shape) while earlier ones are pending share that copy, so do not
  // change it until they have ended. Smaller arguments travel inside each
  // task. 0: never (every argument travels with its task).
  // docs/controller.md, "Large arguments by value".
  std::size_t auto_put_min_bytes = std::size_t{1} << 20;
  // Where refused messages and engine deaths are logged (rate-limited).
  // Empty: standard error.
  std::function<void(std::string_view line)> log_sink;
  // How long the destructor waits for spawned engines to exit after asking
  // them to, before SIGTERM (and as long again before SIGKILL).
  std::chrono::milliseconds shutdown_grace{2000};
  // Where start_engines' launchers (ssh, mpiexec, srun) write their output,
  // one file each. Empty: a private directory, removed with the controller.
  std::filesystem::path launch_log_directory;
};

struct EngineSpawnOptions {
  // The engine program. Empty: $CANNERY_ENGINE, else `cannery-engine` next to
  // the running executable, else `cannery-engine` on PATH.
  std::filesystem::path program;
  // Each becomes `--plugin <path>`.
  std::vector<std::string> plugins;
  // Appended after the generated arguments.
  std::vector<std::string> extra_args;
  // How much lower than their heartbeat and I/O threads the engines run
  // their functions: cannery-engine --work-nice, a nice increment from 0 to
  // 19. Unset: for engines on this host (spawn_local_engines, LocalLauncher),
  // oversubscribed_work_nice when they would outnumber the CPUs this process
  // may run on, so that they cannot starve the controller they all wait on;
  // 0 otherwise and for the other launchers' engines (docs/engine.md, "Work
  // priority").
  std::optional<int> work_nice;
};

inline constexpr int oversubscribed_work_nice = 19;

struct ApplyOptions {
  // How many times a task that was lost with its engine is resubmitted to
  // another live engine (only for any_engine tasks; remote errors are final).
  int retries = 0;
  // The task ends with cannery::error(timeout) when it has not ended this long
  // after it was submitted (queued or running).
  std::optional<std::chrono::milliseconds> timeout;
  // Keep the result on the engine that made it: get<ObjectRef>() gives a ref
  // to it, which later tasks take as an argument (they run on that engine
  // when given any_engine; on another, the object moves engine to engine),
  // and ObjectRef::get<T>() brings it here. apply / apply_with only; engines
  // need a data socket (EngineInfo::data_endpoint).
  bool keep_result = false;
};

// How map() picks an engine for each chunk, among engines with room.
enum class Scheme {
  leastload,  // fewest outstanding tasks
  lru,        // least recently assigned
  twobin,     // two engines at random, the less recently assigned of them
  random,     // uniformly at random
};

struct MapOptions {
  Scheme scheme = Scheme::leastload;
  // Elements per task: each chunk is one map_request.
  std::size_t chunk_size = 1;
  // get() in input order (true) or in completion order of chunks (false).
  bool ordered = true;
  int retries = 0;                                   // per chunk, as ApplyOptions::retries
  std::optional<std::chrono::milliseconds> timeout;  // per chunk, from submission
};

}  // namespace cannery
