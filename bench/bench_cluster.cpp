// Cluster benchmarks: a controller and real cannery-engine processes, each
// workload beside a raw cppzmq baseline measured in the same run.
//
//   apply_roundtrip          synchronous apply of a scalar task ("add") on one
//                            engine. Baseline raw_zmq_roundtrip: a DEALER ->
//                            ROUTER echo of one small frame between this process
//                            and a second one, over tcp on 127.0.0.1, the
//                            caller blocking in zmq_recv. The controller has
//                            default options, so get() spins up to
//                            ControllerOptions::wait_spin before it sleeps.
//                            Target: <= 1.5x the raw round trip.
//   pipelined_small_tasks    20,000 tasks of [int64, str, float, 16 doubles]
//                            ("small_task") over 2 engines, all submitted, then
//                            all awaited; items_per_second is tasks per second.
//                            Target: >= 100,000 /s.
//   put_once_weights         put() of 50 float64 arrays of 1,000,000 elements
//                            (400 MB) plus 20 tasks on the reference over 2
//                            engines ("nbytes_all": the weights are moved and
//                            uncanned, not summed; put_once_weights_sum has each
//                            task sum all 400 MB too). The engines are local, so
//                            the weights go through shared memory (written once,
//                            mapped by both); put_once_weights_socket sends them
//                            over tcp to each engine instead, as for remote
//                            engines. Target: <= 0.5 s.
//                            put_once_weights_lvalue: put(weights) instead of
//                            put(std::move(weights)); the caller keeps its
//                            weights, written to shared memory from where
//                            they are (no copy on the heap first).
//                            by_value_weights: no put; the same weights
//                            (an lvalue) given by value to each of the 20
//                            tasks, put for the caller once (target: <= 1.5x
//                            put_once_weights, the same peak memory).
//                            put_once_weights_shared_arrays: the same weights
//                            allocated as cannery::SharedArray, which put()
//                            names where they are (nothing is written).
//                            Counters: controller_rss and engine_rss, the peak
//                            resident memory of this process and of the
//                            largest engine, over the 400 MB payload (target:
//                            <= 1.10).
//
//   apply_echo/256MiB        an NDArray of 256 MiB to an engine's "echo" and back
//                            (its bytes not copied on either side). Baseline
//                            raw_zmq_echo/256MiB: the same bytes to a raw
//                            DEALER/ROUTER echo process and back, zero-copy
//                            (two transfers); that process keeps its receive
//                            memory warm as cannery-engine does. Target <= 1.3x.
//
// IPython Parallel and Dask doing the same round trip, small tasks and put
// are measured by scripts/bench-report.sh in the same run as these, never
// quoted here from another day.
//
// Engines come from CANNERY_ENGINE or next to this program (build/bin).

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cannery/controller.hpp>
#include <cannery/messaging/receive_memory.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "support/counting.hpp"
#include "support/small_tasks.hpp"
#include "support/summary.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using cannery::bench::Times;

constexpr std::size_t weight_arrays = 50;
constexpr std::size_t weight_elements = 1'000'000;
constexpr double weights_bytes = weight_arrays * weight_elements * sizeof(double);
using cannery::bench::small_tasks;

// Peak resident memory (VmHWM) of a process, in bytes; 0 when unknown.
double peak_rss_of(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024;
  }
  return 0;
}

// Sets a process's peak resident memory back to its current size (Linux's
// clear_refs "5"; our own engines run as our user).
void reset_peak_rss(int pid) {
  std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5";
}

// Controllers with `n` local engines, made once per engine count and
// shared-memory setting (starting processes is not what these benchmarks
// measure) and shut down by main().
std::map<std::pair<std::size_t, bool>, std::unique_ptr<cannery::Controller>> clusters;

cannery::Controller& cluster(std::size_t n, bool shared_memory = true) {
  auto& c = clusters[{n, shared_memory}];
  if (!c) {
    cannery::ControllerOptions options;
    options.shared_memory = shared_memory;
    c = std::make_unique<cannery::Controller>(options);
    c->spawn_local_engines(n);
    c->wait_for_engines(n, 60s);
  }
  return *c;
}

// The raw baseline's peer: this program run again with --raw-echo ENDPOINT,
// so that, like a controller and an engine, the two ends are two processes.
int raw_echo(const char* endpoint) {
  zmq::context_t context;
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.connect(endpoint);
  for (;;) {
    zmq::message_t id, body;
    if (!router.recv(id) || !router.recv(body)) return 1;
    if (body.to_string_view() == "stop") return 0;
    router.send(id, zmq::send_flags::sndmore);
    router.send(body, zmq::send_flags::none);
  }
}

// A DEALER connected to the raw echo process (this program with --raw-echo),
// which stops when this goes away.
class RawEchoPeer {
 public:
  // `warm`: the process keeps its receive memory warm (receive_memory.hpp),
  // as cannery-engine does; for large transfers only, so that the small
  // round trip's baseline stays the plain libzmq process it always was.
  explicit RawEchoPeer(bool warm = false) : dealer_(context_, zmq::socket_type::dealer) {
    dealer_.set(zmq::sockopt::linger, 0);
    dealer_.set(zmq::sockopt::rcvtimeo, 60000);
    dealer_.bind("tcp://127.0.0.1:*");
    const std::string endpoint = dealer_.get(zmq::sockopt::last_endpoint);
    char* argv[] = {const_cast<char*>("bench_cluster"),
                    const_cast<char*>(warm ? "--raw-echo-warm" : "--raw-echo"),
                    const_cast<char*>(endpoint.c_str()), nullptr};
    if (::posix_spawn(&peer_, "/proc/self/exe", nullptr, nullptr, argv, environ) != 0) peer_ = 0;
  }
  RawEchoPeer(const RawEchoPeer&) = delete;
  RawEchoPeer& operator=(const RawEchoPeer&) = delete;
  ~RawEchoPeer() {
    if (peer_ == 0) return;
    dealer_.send(zmq::str_buffer("stop"), zmq::send_flags::none);
    ::waitpid(peer_, nullptr, 0);
  }
  bool started() const noexcept { return peer_ != 0; }
  zmq::socket_t& socket() noexcept { return dealer_; }

 private:
  zmq::context_t context_;
  zmq::socket_t dealer_;
  pid_t peer_ = 0;
};

void raw_zmq_roundtrip(benchmark::State& state) {
  RawEchoPeer peer;
  if (!peer.started()) {
    state.SkipWithError("cannot start the echo process");
    return;
  }
  for (auto _ : state) {
    peer.socket().send(zmq::str_buffer("ping"), zmq::send_flags::none);
    zmq::message_t reply;
    if (!peer.socket().recv(reply)) {
      state.SkipWithError("no reply");
      break;
    }
  }
}

// One array of `bytes` to the raw echo process and back, zero-copy both ways:
// two transfers of the same bytes, the baseline of apply_echo.
void raw_zmq_echo(benchmark::State& state, std::size_t bytes) {
  RawEchoPeer peer(true);
  if (!peer.started()) {
    state.SkipWithError("cannot start the echo process");
    return;
  }
  const std::vector<double> values(bytes / sizeof(double), 1.5);
  for (auto _ : state) {
    zmq::message_t out(const_cast<double*>(values.data()), bytes, [](void*, void*) {});
    peer.socket().send(out, zmq::send_flags::none);
    zmq::message_t reply;
    if (!peer.socket().recv(reply) || reply.size() != bytes) {
      state.SkipWithError("no reply");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

// The same array as an NDArray (its bytes shared, not copied, by every call)
// to an engine's "echo" and back, viewed where it arrived.
void apply_echo(benchmark::State& state, std::size_t bytes) {
  cannery::Controller& controller = cluster(1);
  const int engine = controller.engine_ids().front();
  const cannery::NDArray array =
      cannery::NDArray::from_vector(std::vector<double>(bytes / sizeof(double), 1.5));
  for (auto _ : state) {
    const auto back = controller.apply(engine, "echo", array).get<cannery::NDArray>(60s);
    if (back.nbytes() != bytes) {
      state.SkipWithError("echo returned another size");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

void apply_roundtrip(benchmark::State& state) {
  cannery::Controller& controller = cluster(1);
  const int engine = controller.engine_ids().front();
  double sum = 0;
  for (auto _ : state)
    sum += controller.apply(engine, "add", 1.0, 2.0).get<double>(10s);
  benchmark::DoNotOptimize(sum);
}

void pipelined_small_tasks(benchmark::State& state) {
  cannery::bench::run_small_tasks(state, cluster(2));
}

// put() of the 400 MB weights, then 20 tasks on the reference over 2 engines.
// `task` is nbytes_all (reads only the arrays' headers: the cost of moving the
// weights) or sum_all (reads every byte: adds 8 GB of summing).
// `shared_memory`: through /dev/shm (the default for local engines) or over
// the socket, once per engine. `Array`: std::vector<double>, or
// cannery::SharedArray<double> (allocated in shared memory from the start).
// `pass`: put(std::move(weights)), put(weights) (the caller keeping its
// weights), or no put at all: the weights given by value to each task.
enum class Pass { put_moved, put_kept, by_value };
template <class Array, Pass pass = Pass::put_moved>
void put_once_weights(benchmark::State& state, const char* task, bool shared_memory) {
  cannery::Controller& controller = cluster(2, shared_memory);
  // The peaks are those of this exercise, not of the benchmarks before it
  // in this process and these engines (20,000 tasks in flight, say). A
  // previous put's release may still be on its way to the engines: a round
  // trip to each comes back after it. And glibc keeps the freed weights of a
  // previous put for reuse (390 MB): given back first, so that they are not
  // counted twice.
  for (int id : controller.engine_ids())
    controller.apply(id, "add", 1.0, 2.0).get<double>(10s);
  ::malloc_trim(0);
  for (const auto& e : controller.engines())
    reset_peak_rss(e.pid);
  reset_peak_rss(::getpid());
  for (auto _ : state) {
    state.PauseTiming();  // making the 400 MB is not part of it
    std::map<std::string, Array> weights;
    for (std::size_t i = 0; i < weight_arrays; ++i) {
      Array layer(weight_elements);
      std::fill(layer.begin(), layer.end(), 1.0);
      weights.emplace("layer" + std::to_string(i), std::move(layer));
    }
    state.ResumeTiming();
    std::vector<cannery::AsyncResult> tasks;
    if (pass == Pass::by_value) {
      for (int t = 0; t < 20; ++t)
        tasks.push_back(controller.apply(cannery::any_engine, task, weights));
    } else {
      cannery::ObjectRef ref =
          pass == Pass::put_kept ? controller.put(weights) : controller.put(std::move(weights));
      for (int t = 0; t < 20; ++t)
        tasks.push_back(controller.apply(cannery::any_engine, task, ref));
    }
    for (auto& result : tasks)
      benchmark::DoNotOptimize(result.get<cannery::Object>(120s));
  }
  double engine_peak = 0;
  for (const auto& e : controller.engines())
    engine_peak = std::max(engine_peak, peak_rss_of(e.pid));
  state.counters["controller_rss"] = peak_rss_of(::getpid()) / weights_bytes;
  state.counters["engine_rss"] = engine_peak / weights_bytes;
}

// The floor under put_once_weights on this machine at this moment: one copy
// of the same 400 MB, by one thread, into memory never touched before (what
// put() does, shared out among its writer threads, when it writes the
// shared-memory segments). Written by one thread, the put's copy varied more
// than this one from run to run on a virtual machine (0.15-1.1 s against
// 0.19-0.23 s): the kernel also adds each fresh page to the segment's file.
void memcpy_weights_fresh(benchmark::State& state) {
  std::vector<std::vector<double>> weights(weight_arrays,
                                           std::vector<double>(weight_elements, 1.0));
  for (auto _ : state) {
    std::unique_ptr<double[]> fresh(new double[weight_arrays * weight_elements]);
    for (std::size_t i = 0; i < weight_arrays; ++i) {
      std::memcpy(fresh.get() + i * weight_elements, weights[i].data(),
                  weight_elements * sizeof(double));
    }
    benchmark::DoNotOptimize(fresh.get());
    state.PauseTiming();  // giving the pages back is not part of it
    fresh.reset();
    state.ResumeTiming();
  }
}

// One iteration each: peak resident memory is then that of one exercise.
void one_exercise(benchmark::internal::Benchmark* b) {
  b->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
}

// Registered from main(), so after the round trips and pipelined tasks, in
// this order.
void register_put_exercises() {
  using benchmark::RegisterBenchmark;
  constexpr std::size_t echo_bytes = std::size_t{256} << 20;
  RegisterBenchmark("raw_zmq_echo/256MiB", raw_zmq_echo, echo_bytes)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(5);
  RegisterBenchmark("apply_echo/256MiB", apply_echo, echo_bytes)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(5);
  using Heap = std::vector<double>;
  using Shared = cannery::SharedArray<double>;
  RegisterBenchmark("put_once_weights", put_once_weights<Heap>, "nbytes_all", true)
      ->Apply(one_exercise);
  RegisterBenchmark("put_once_weights_socket", put_once_weights<Heap>, "nbytes_all", false)
      ->Apply(one_exercise);
  // After the put, so that the put is not the one that finds memory warmed.
  RegisterBenchmark("memcpy_weights_fresh", memcpy_weights_fresh)->Apply(one_exercise);
  RegisterBenchmark("put_once_weights_sum", put_once_weights<Heap>, "sum_all", true)
      ->Apply(one_exercise);
  RegisterBenchmark("put_once_weights_lvalue", put_once_weights<Heap, Pass::put_kept>, "nbytes_all",
                    true)
      ->Apply(one_exercise);
  RegisterBenchmark("by_value_weights", put_once_weights<Heap, Pass::by_value>, "nbytes_all", true)
      ->Apply(one_exercise);
  RegisterBenchmark("put_once_weights_shared_arrays", put_once_weights<Shared>, "nbytes_all", true)
      ->Apply(one_exercise);
}

void print_summary(const Times& times) {
  std::fprintf(stderr, "\nSummary (ratios, not absolute times, are the claim)\n");
  const double* apply = times.find("apply_roundtrip");
  const double* raw = times.find("raw_zmq_roundtrip");
  if (apply != nullptr && raw != nullptr) {
    std::fprintf(stderr,
                 "  apply_roundtrip %8.1f us vs raw zmq %8.1f us: %.2fx, target <= 1.5x: %s\n",
                 *apply * 1e6, *raw * 1e6, *apply / *raw, *apply / *raw <= 1.5 ? "met" : "MISSED");
  }
  const double* echo = times.find("apply_echo/256MiB");
  const double* raw_echo = times.find("raw_zmq_echo/256MiB");
  if (echo != nullptr && raw_echo != nullptr) {
    std::fprintf(stderr,
                 "  apply_echo/256MiB %8.1f ms vs raw zmq %8.1f ms (two transfers): %.2fx, "
                 "target <= 1.3x: %s\n",
                 *echo * 1e3, *raw_echo * 1e3, *echo / *raw_echo,
                 *echo / *raw_echo <= 1.3 ? "met" : "MISSED");
  }
  if (const double* t = times.find("pipelined_small_tasks")) {
    const double rate = static_cast<double>(small_tasks) / *t;
    std::fprintf(stderr, "  pipelined_small_tasks %9.0f tasks/s, target >= 100,000: %s\n", rate,
                 rate >= 100000 ? "met" : "MISSED");
  }
  if (const double* t = times.find("put_once_weights")) {
    std::fprintf(stderr, "  put_once_weights %7.3f s through shared memory, target <= 0.5 s: %s\n",
                 *t, *t <= 0.5 ? "met" : "MISSED");
  }
  const double* put = times.find("put_once_weights");
  const double* floor = times.find("memcpy_weights_fresh");
  if (put != nullptr && floor != nullptr) {
    std::fprintf(stderr, "  put_once_weights is %.2fx one copy into fresh memory (%.3f s)\n",
                 *put / *floor, *floor);
  }
  if (const double* t = times.find("put_once_weights_shared_arrays")) {
    std::fprintf(stderr,
                 "  put_once_weights_shared_arrays %7.3f s (weights allocated as SharedArray: "
                 "nothing written), target <= 0.5 s: %s\n",
                 *t, *t <= 0.5 ? "met" : "MISSED");
  }
  if (const double* t = times.find("put_once_weights_socket")) {
    std::fprintf(stderr, "  put_once_weights_socket %7.3f s (the same over tcp, once per engine)\n",
                 *t);
  }
  if (const double* t = times.find("put_once_weights_lvalue")) {
    std::fprintf(stderr,
                 "  put_once_weights_lvalue %7.3f s (put(weights), the caller keeping them)\n", *t);
  }
  const double* by_value = times.find("by_value_weights");
  if (by_value != nullptr && put != nullptr) {
    std::fprintf(stderr,
                 "  by_value_weights %7.3f s (the same weights given by value to each task) vs "
                 "put_once_weights: %.2fx, target <= 1.5x: %s\n",
                 *by_value, *by_value / *put, *by_value / *put <= 1.5 ? "met" : "MISSED");
  }
}

}  // namespace

BENCHMARK(raw_zmq_roundtrip)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(apply_roundtrip)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(pipelined_small_tasks)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

int main(int argc, char** argv) {
  if (argc == 3 && std::string_view(argv[1]) == "--raw-echo") return raw_echo(argv[2]);
  if (argc == 3 && std::string_view(argv[1]) == "--raw-echo-warm") {
    // As cannery-engine keeps its receive memory warm, so does its raw peer.
    cannery::keep_receive_memory_warm(std::size_t{1} << 30);
    return raw_echo(argv[2]);
  }
  register_put_exercises();
  const int status = cannery::bench::run_benchmarks(argc, argv, print_summary);
  clusters.clear();
  return status;
}
