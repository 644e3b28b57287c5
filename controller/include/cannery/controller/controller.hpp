#pragma once
// Controller: the program-side end of a cannery cluster. It binds the socket
// engines connect to, writes the connection file, registers engines, watches
// their heartbeats, and schedules tasks on them:
//
//   cannery::Controller controller;  // key and connection file made for you
//   controller.spawn_local_engines(2);
//   controller.wait_for_engines(2, std::chrono::seconds(60));
//   auto r = controller.apply(cannery::any_engine, "add", 1.0, 2.0);
//   double sum = r.get<double>();                      // 3: add(double, double) -> double
//   auto weights = controller.put(std::move(matrix));  // travels once per engine
//   auto trace = controller.apply(cannery::any_engine, "trace_scaled", weights, 2.0);
//   auto squares = controller.map("square", {}, std::vector{1.0, 2.0, 3.0});
//   std::vector<double> values = squares.get<double>();  // 1, 4, 9
//
// The functions are cannery-engine's built-in ones (builtins.hpp).
// All member functions are thread-safe. A background I/O thread owns the
// socket; calls enqueue commands for it. See docs/controller.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iterator>
#include <memory>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "cannery/canning/apply.hpp"
#include "cannery/canning/error.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/canning/serialize.hpp"
#include "cannery/controller/async_map_result.hpp"
#include "cannery/controller/async_result.hpp"
#include "cannery/controller/detail/submission.hpp"
#include "cannery/controller/engine_info.hpp"
#include "cannery/controller/launchers.hpp"
#include "cannery/controller/object_ref.hpp"
#include "cannery/controller/options.hpp"
#include "cannery/controller/stats.hpp"
#include "cannery/messaging/connection_file.hpp"

namespace cannery {

// apply()'s target for "whichever engine has room" (least loaded).
inline constexpr int any_engine = -1;

namespace detail {
class AutoPuts;
class Core;
class Spawner;

// The i-th chunk of a map's range: its elements [begin, end) as a vector,
// canned as a 1-D array (numbers) or a list.
template <class Range>
auto map_chunk(const Range& range, std::size_t begin, std::size_t end) {
  using Element = std::ranges::range_value_t<Range>;
  auto first = std::ranges::begin(range);
  std::ranges::advance(first, static_cast<std::ranges::range_difference_t<Range>>(begin));
  auto last = first;
  std::ranges::advance(last, static_cast<std::ranges::range_difference_t<Range>>(end - begin));
  return std::vector<Element>(first, last);
}

// Cuts a map's range into chunks (map_chunk). A std::vector of numbers
// handed over (an rvalue) is kept once and its chunks are views of it: no
// element is copied. Anything else is held as given (a reference for an
// lvalue) and its chunks are new vectors, which own what they send.
template <class Range>
class MapChunks {
 public:
  explicit MapChunks(Range&& range) : range_(std::forward<Range>(range)) {}
  auto operator()(std::size_t begin, std::size_t end) const {
    return map_chunk(range_, begin, end);
  }

 private:
  Range range_;
};

template <array_element T>
requires(!std::same_as<T, bool>)  // std::vector<bool> packs bits
    class MapChunks<std::vector<T>> {
 public:
  explicit MapChunks(std::vector<T>&& values) : data_(Buffer::take(std::move(values))) {}
  NDArray operator()(std::size_t begin, std::size_t end) const {
    return NDArray(dtype_of<T>(), {end - begin},
                   data_.slice(begin * sizeof(T), (end - begin) * sizeof(T)));
  }

 private:
  Buffer data_;
};

std::size_t common_map_size(std::string_view function, std::initializer_list<std::size_t> sizes);
}  // namespace detail

class Controller {
 public:
  explicit Controller(ControllerOptions options = {});
  // Asks spawned engines to shut down, then SIGTERM, then SIGKILL after
  // ControllerOptions::shutdown_grace each, and reaps them; fails every task
  // that has not ended; removes a connection file it made up itself.
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::filesystem::path& connection_file() const noexcept { return connection_file_; }
  const ConnectionInfo& connection_info() const noexcept { return info_; }
  // The endpoint engines connect to, as written in the connection file.
  const std::string& endpoint() const;
  // Where the heart socket is bound (ControllerOptions::heartbeat_endpoint);
  // engines learn it when they register.
  const std::string& heartbeat_endpoint() const;

  // Starts `n` engine processes on this machine (posix_spawn):
  //   <program> --connection-file <file> --exit-with-parent [--plugin <p>]... [extra args...]
  // Throws cannery::error(io_error) when the program cannot be started.
  void spawn_local_engines(std::size_t n, EngineSpawnOptions options = {});
  // Starts `n` engines with `launcher` (launchers.hpp): LocalLauncher as
  // spawn_local_engines does; ssh, mpiexec and srun hand the engines the
  // connection info in their environment or on standard input. `options`'
  // plugins and extra_args go to every engine, its program to local ones
  // (the other launchers name theirs). Throws cannery::error(invalid_argument)
  // when those engines could not reach this controller (bound to a loopback
  // address or ipc), io_error when the launcher program cannot be started.
  // A launcher that starts and then fails is reported by wait_for_engines.
  void start_engines(std::size_t n, const Launcher& launcher, EngineSpawnOptions options = {});
  // Processes started by spawn_local_engines and start_engines (engines, or
  // their launchers: ssh, mpiexec, srun).
  std::vector<int> spawned_pids() const;
  // Waits until at least `n` engines are alive; error(timeout) otherwise,
  // naming the started processes that failed (a launcher's exit status and
  // the end of its output).
  void wait_for_engines(std::size_t n, std::chrono::milliseconds timeout);
  // Every engine ever registered, dead ones included (alive = false).
  std::vector<EngineInfo> engines() const;
  // Ids of the live engines.
  std::vector<int> engine_ids() const;

  // Runs `function(args...)` on engine `target` (or any_engine). Arguments
  // are canned once, now: rvalues hand their memory over (zero copy).
  // Arguments that borrow the caller's memory (lvalue arrays, spans) for at
  // least ControllerOptions::auto_put_min_bytes are put() for the caller:
  // written to shared memory for local engines, copied once otherwise, sent
  // once per engine however many tasks are given the same object, released
  // when the last of them ends. Smaller ones are copied into the task, since
  // the caller's object may be gone before the queued message leaves.
  // ObjectRefs travel as references. kw("name", value) adds keyword
  // arguments. Blocks while max_pending tasks are queued (back-pressure).
  template <class... Args>
  AsyncResult apply(int target, std::string_view function, Args&&... args) {
    return apply_with(ApplyOptions{}, target, function, std::forward<Args>(args)...);
  }
  template <class... Args>
  AsyncResult apply_with(const ApplyOptions& options, int target, std::string_view function,
                         Args&&... args) {
    return submit_one(call(function, std::forward<Args>(args)...), target, options);
  }

  // Runs `function(args...)` once on every live engine. The arguments are
  // canned once and the same frames (shared Buffers) go to every engine.
  template <class... Args>
  std::vector<AsyncResult> broadcast(std::string_view function, Args&&... args) {
    return broadcast_with(ApplyOptions{}, function, std::forward<Args>(args)...);
  }
  template <class... Args>
  std::vector<AsyncResult> broadcast_with(const ApplyOptions& options, std::string_view function,
                                          Args&&... args) {
    return submit_to_all(call(function, std::forward<Args>(args)...), options);
  }

  // Calls `function(a[i], b[i], ...)` for every index of the ranges (all of
  // one size), `chunk_size` indices per task (a map_request whose argument j
  // is the chunk of range j), spread over engines by `options.scheme`. A
  // std::vector of numbers given as an rvalue is kept as it is and its
  // chunks are views of it; other ranges are copied into their chunks.
  template <class... Ranges>
  AsyncMapResult map(std::string_view function, const MapOptions& options, Ranges&&... ranges) {
    static_assert(sizeof...(Ranges) > 0, "cannery::Controller::map needs at least one range");
    static_assert((std::ranges::sized_range<Ranges> && ...),
                  "cannery::Controller::map takes sized ranges (std::vector, std::span, ...)");
    const std::size_t n =
        detail::common_map_size(function, {static_cast<std::size_t>(std::ranges::size(ranges))...});
    if (options.chunk_size == 0) {
      throw error(errc::invalid_argument, "MapOptions::chunk_size must be at least 1");
    }
    const std::size_t chunks = (n + options.chunk_size - 1) / options.chunk_size;
    std::vector<std::size_t> counts(chunks, options.chunk_size);
    if (chunks != 0) counts.back() = n - (chunks - 1) * options.chunk_size;
    auto state = std::make_shared<detail::MapState>(counts, options.ordered, options_.wait_spin);
    std::tuple<detail::MapChunks<Ranges>...> cut{std::forward<Ranges>(ranges)...};
    std::vector<detail::Submission> batch;
    batch.reserve(std::min<std::size_t>(chunks, map_batch));
    for (std::size_t c = 0; c < chunks; ++c) {
      const std::size_t begin = c * options.chunk_size;
      const std::size_t end = begin + counts[c];
      detail::Submission s;
      protocol::MapRequest request;
      request.count = counts[c];
      s.request = std::move(request);
      s.frames = std::apply(
          [&](const auto&... chunk) {
            return detail::owned_frames(pack_apply_message(function, chunk(begin, end)...));
          },
          cut);
      s.scheme = options.scheme;
      s.retries = options.retries;
      s.deadline = detail::deadline_after(options.timeout);
      s.sink = state;
      s.slot = c;
      batch.push_back(std::move(s));
      if (batch.size() == map_batch) {
        submit_batch(std::move(batch));
        batch.clear();
      }
    }
    if (!batch.empty()) submit_batch(std::move(batch));
    return AsyncMapResult(std::move(state));
  }

  // Cans `value` once and returns a handle to it. The object is sent to an
  // engine at most once, just before the first task there that uses it, and
  // cached by the engine until the last copy of the handle is dropped.
  //
  // An lvalue is read, not copied, when its large frames go to shared memory
  // (local engines); whatever would still borrow it is copied before put()
  // returns.
  template <class T>
  ObjectRef put(T&& value) {
    return put_frames(serialize_object(std::forward<T>(value)));
  }

  // Stores named values in engine `target`'s namespace (push_request); the
  // result ends when the engine has them.
  AsyncResult push(int target, std::vector<std::pair<std::string, Object>> values);
  template <class T>
  AsyncResult push(int target, std::string_view name, T&& value) {
    return push_frames(target, {std::string(name)},
                       detail::owned_frames(serialize_object(std::forward<T>(value))));
  }
  // A value from engine `target`'s namespace (pull_request).
  AsyncResult pull(int target, std::string name);

  // Sends shutdown_request to every live engine (no reply is expected).
  void shutdown_engines();

  // Sum of the sizes of all frames handed to the socket so far.
  std::uint64_t bytes_sent() const;
  ControllerStats stats() const;

 private:
  static constexpr std::size_t map_batch = 1024;

  // One call canned for apply or broadcast: every argument kept by
  // keep_argument.
  template <class... Args>
  detail::Submission call(std::string_view function, Args&&... args) {
    detail::Submission s;
    s.function = function;
    s.refs = detail::collect_refs(args...);
    s.frames = detail::pack_apply_message_hooked(
        SerializeOptions{},
        [&](std::vector<Buffer>& frames, std::size_t first) { keep_argument(s, frames, first); },
        function, std::forward<Args>(args)...);
    return s;
  }
  // The argument canned into frames[first...]: replaced by the ref of its
  // automatic put when it borrows enough of the caller's memory, else made
  // to own its bytes.
  void keep_argument(detail::Submission& s, std::vector<Buffer>& frames, std::size_t first);

  AsyncResult submit_one(detail::Submission s, int target, const ApplyOptions& options);
  std::vector<AsyncResult> submit_to_all(detail::Submission s, const ApplyOptions& options);
  void submit_batch(std::vector<detail::Submission> batch);
  ObjectRef put_frames(std::vector<Buffer> frames);
  AsyncResult push_frames(int target, std::vector<std::string> names, std::vector<Buffer> frames);

  ControllerOptions options_;
  std::filesystem::path connection_file_;
  std::filesystem::path private_dir_;  // made by us, removed with us
  // Where launchers' output goes (ControllerOptions::launch_log_directory,
  // else a private directory made on first use and removed with us).
  std::filesystem::path launch_logs_;
  bool remove_launch_logs_ = false;
  const std::filesystem::path& launch_logs();
  ConnectionInfo info_;
  std::shared_ptr<detail::Core> core_;
  std::unique_ptr<detail::Spawner> spawner_;
  std::unique_ptr<detail::AutoPuts> auto_puts_;
};

}  // namespace cannery
