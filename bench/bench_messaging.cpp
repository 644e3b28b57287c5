// Messaging benchmarks, each next to its baseline in the same process.
//
//   weights_<transport>      one message carrying 50 float64 arrays of
//                            1,000,000 elements (400 MB), canned with
//                            ownership once, signed, sent from a DEALER to a
//                            ROUTER whose thread verifies it and uncans the
//                            dict as views of the received frames. Baseline
//                            raw_zmq_weights_<transport>: cppzmq sending the
//                            same 50 frames zero-copy plus a small header.
//   weights_tcp_digests      weights_tcp with SessionOptions::buffer_digests:
//                            the end-to-end cost of buffer integrity.
//   borrowed_span_tcp/16MiB, /256MiB
//                            one array canned from a span of the caller's
//                            memory (a borrowed frame, lent to libzmq by the
//                            blocking send), sent and uncanned as a view.
//                            Baseline raw_zmq_span_tcp/<size>: cppzmq sending
//                            the same bytes zero-copy. Target >= 0.9x.
//   sweep_span_tcp/N, sweep_raw_zmq_span_tcp/N
//                            the same pair for N from 1 KiB to 400 MB (bytes),
//                            raw first at each size: the transfer sweep that
//                            scripts/bench-report.sh sets beside its peers.
//   weights_<transport>_repeated
//                            ten weights messages in a row to the same
//                            receiver, which keeps its freed memory within
//                            the bound (ReceiveMemoryKeeper). Baseline
//                            raw_zmq_weights_tcp_reused: a raw receiver that
//                            receives every frame into the same buffers.
//                            Target >= 0.9x; faults_after_first: page faults
//                            per message after the first.
//   small_message_<transport>
//                            pipelined apply messages of [int64, str, double,
//                            16 doubles]: header, pack_apply_message, sign,
//                            send; receive, verify, unpack, uncan the four
//                            arguments. Baseline raw_zmq_small_<transport>:
//                            cppzmq sending the same frames, unsigned.
//   hmac_sign/N              Signer::sign over the four signed frames of a
//                            message (N bytes in all; 256 is a typical request),
//                            the same header each time, as one peer's headers
//                            start alike: the Signer reuses the state after
//                            their first 128 bytes.
//   hmac_sign_new_header/N   the same, each header starting unlike the last
//                            four (eight sessions' headers in turn): the cost
//                            without that reuse.
//   buffer_digest/N          BLAKE2b-256 of an N-byte buffer.
//   frame_copy/N, frame_zero_copy/N
//                            to_zmq_message + send + receive over inproc of
//                            one N-byte frame, copied or handed over: where
//                            they cross is where FrameOptions::copy_threshold
//                            belongs.
//
// Sender and receiver each have their own context (as two processes would)
// and run in two threads of this process; <transport> is tcp (loopback) or
// ipc (a socket in a fresh temporary directory). Times are real (wall) times:
// the work happens in several threads. This program keeps received memory
// warm as cannery-engine does (keep_receive_memory_warm, receive_memory.hpp),
// for cannery and raw libzmq alike: `page_faults` shows whether a message
// still lands in fresh pages.
//
// The transport benchmarks run in interleaved rounds (raw, cannery, raw,
// cannery, ...; five of the small messages, three of the weights) under the
// same names, so that a burst of load from elsewhere hits both; the summary
// compares the fastest round of each.
//
// Counters: `allocs` is heap allocations (operator new, any thread, libzmq's
// included) and `page_faults` minor faults, per message; `copied_bytes` is
// what to_zmq_message copied per message (frame_stats()); for the small
// messages `receiver_cpu_us` is the receiving thread's CPU time per message
// (the CPU column is the sending thread's, per batch of 500). A summary of the
// ratios against the baselines is printed to stderr at the end, so that
// --benchmark_format=json on stdout stays machine-readable.

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <zmq.hpp>

#include <cannery/canning.hpp>
#include <cannery/messaging/frames.hpp>
#include <cannery/messaging/hmac.hpp>
#include <cannery/messaging/receive_memory.hpp>
#include <cannery/messaging/session.hpp>

#include "compressed_link.hpp"
#include "support/counting.hpp"
#include "support/summary.hpp"

namespace {

using cannery::Buffer;
using cannery::Message;
using cannery::Session;
using cannery::SessionOptions;

// Adds the bytes copied into zmq messages, per message, to the shared counters.
class Counting {
 public:
  Counting() : copied_(cannery::frame_stats().copied_bytes.load()) {}
  void report(benchmark::State& state, std::uint64_t per_iteration = 1) const {
    common_.report(state, per_iteration);
    const double messages = static_cast<double>(std::max<std::int64_t>(state.iterations(), 1)) *
                            static_cast<double>(per_iteration);
    state.counters["copied_bytes"] =
        static_cast<double>(cannery::frame_stats().copied_bytes.load() - copied_) / messages;
  }

 private:
  cannery::bench::Counting common_;
  std::uint64_t copied_;
};

using cannery::bench::set_bytes;
using cannery::bench::Times;

// Runs a benchmark body; a failure skips the benchmark with its reason
// instead of ending the process.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    std::forward<Body>(body)();
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

constexpr std::string_view bench_key = "bench-messaging-key-0123456789abcdef";

SessionOptions session_options(bool buffer_digests = false) {
  SessionOptions options;
  options.key = bench_key;
  options.buffer_digests = buffer_digests;
  return options;
}

// --- Transport ------------------------------------------------------------------

enum class Transport { tcp, ipc };

// Made on first use, removed at exit (libzmq unlinks the socket files).
std::string& ipc_dir() {
  static std::string dir;
  return dir;
}

std::string bind_address(Transport transport) {
  if (transport == Transport::tcp) return "tcp://127.0.0.1:*";
  std::string& dir = ipc_dir();
  if (dir.empty()) {
    std::string pattern = "/tmp/cannery-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = pattern;
  }
  static int counter = 0;
  return "ipc://" + dir + "/" + std::to_string(counter++) + ".sock";
}

// What the receiving thread has done, for the timing thread to wait on.
class Progress {
 public:
  void add() {
    std::lock_guard lock(mutex_);
    if (++received_ >= waiting_for_) ready_.notify_one();
  }
  void fail(std::string what) {
    std::lock_guard lock(mutex_);
    failed_ = true;
    failure_ = std::move(what);
    ready_.notify_one();
  }
  // Until `count` messages have arrived; throws when the receiver failed.
  void wait_for(std::uint64_t count) {
    std::unique_lock lock(mutex_);
    waiting_for_ = count;
    ready_.wait(lock, [&] { return failed_ || received_ >= count; });
    waiting_for_ = std::numeric_limits<std::uint64_t>::max();
    if (failed_) throw std::runtime_error("receiver: " + failure_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::uint64_t received_ = 0;
  std::uint64_t waiting_for_ = std::numeric_limits<std::uint64_t>::max();
  bool failed_ = false;
  std::string failure_;
};

// A DEALER (used by the timing thread) connected to a ROUTER that a thread of
// its own drains with `receive_one`, which returns false on the stop message
// (sent by `send_stop` when the Link goes away).
class Link {
 public:
  using ReceiveOne = std::function<bool(zmq::socket_t&)>;
  using SendStop = std::function<void(zmq::socket_t&)>;

  Link(Transport transport, ReceiveOne receive_one, SendStop send_stop)
      : send_stop_(std::move(send_stop)),
        receiver_context_(1),
        sender_context_(1),
        receiver_(receiver_context_, zmq::socket_type::router),
        sender_(sender_context_, zmq::socket_type::dealer) {
    receiver_.set(zmq::sockopt::linger, 0);
    sender_.set(zmq::sockopt::linger, 0);
    sender_.set(zmq::sockopt::sndtimeo, 60'000);  // a dead receiver fails the benchmark
    receiver_.bind(bind_address(transport));
    sender_.connect(receiver_.get(zmq::sockopt::last_endpoint));
    thread_ = std::thread([this, receive = std::move(receive_one)] {
      try {
        while (receive(receiver_))
          progress_.add();
      } catch (const std::exception& e) {
        progress_.fail(e.what());
      }
    });
  }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
  ~Link() {
    try {
      send_stop_(sender_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_messaging: sending the stop message: %s\n", e.what());
      receiver_context_.shutdown();  // unblocks the receiver
    }
    thread_.join();
  }

  zmq::socket_t& socket() noexcept { return sender_; }
  Progress& progress() noexcept { return progress_; }
  // CPU time the receiving thread has used so far (its own clock, read from
  // this thread): what receiving costs, apart from the sender's CPU column.
  double receiver_cpu_seconds() {
    clockid_t clock;
    timespec used{};
    if (pthread_getcpuclockid(thread_.native_handle(), &clock) != 0 ||
        clock_gettime(clock, &used) != 0) {
      return 0;
    }
    return static_cast<double>(used.tv_sec) + 1e-9 * static_cast<double>(used.tv_nsec);
  }

 private:
  SendStop send_stop_;
  Progress progress_;
  zmq::context_t receiver_context_;
  zmq::context_t sender_context_;
  zmq::socket_t receiver_;
  zmq::socket_t sender_;
  std::thread thread_;
};

void check_sent(bool sent) {
  if (!sent) throw std::runtime_error("send timed out");
}

// One whole multipart message into `parts` (reused between messages).
void receive_parts(zmq::socket_t& socket, std::vector<zmq::message_t>& parts) {
  parts.clear();
  do {
    parts.emplace_back();
    if (!socket.recv(parts.back())) throw std::runtime_error("receive failed");
  } while (parts.back().more());
}

void send_raw_stop(zmq::socket_t& socket) {
  check_sent(socket.send(zmq::str_buffer("stop"), zmq::send_flags::none).has_value());
}

bool is_raw_stop(const std::vector<zmq::message_t>& parts) {
  return parts.size() == 2 && parts[1].to_string_view() == "stop";  // routing id, "stop"
}

// --- weights ----------------------------------------------------------------------

using Weights = std::map<std::string, std::vector<double>>;
using WeightViews = std::map<std::string, std::span<const double>>;
constexpr std::size_t weight_arrays = 50;
constexpr std::size_t weight_elements = 1'000'000;
constexpr std::size_t weights_bytes = weight_arrays * weight_elements * sizeof(double);

// Array i holds the value i; names sort in the same order.
Weights make_weights() {
  Weights m;
  for (std::size_t i = 0; i < weight_arrays; ++i) {
    std::string key = "model.layers." + std::to_string(100 + i).substr(1) + ".mlp.weight";
    m.emplace(std::move(key), std::vector<double>(weight_elements, static_cast<double>(i)));
  }
  return m;
}

// The weights canned with ownership (the map is moved in), once: every
// weights benchmark sends these Buffers, and libzmq gets their memory as is.
const cannery::CannedObject& canned_weights() {
  static const cannery::CannedObject canned = cannery::can(make_weights());
  return canned;
}

// Array i holds the value i: check its size and first element.
void check_array(std::size_t i, std::span<const double> values) {
  if (values.size() != weight_elements || values.front() != static_cast<double>(i)) {
    throw std::runtime_error("weights: array " + std::to_string(i) + " differs");
  }
}

// Uncans received weights as views and checks each array.
void check_weights(std::span<const Buffer> buffers) {
  const WeightViews views = cannery::deserialize_object<WeightViews>(buffers).value;
  if (views.size() != weight_arrays) throw std::runtime_error("weights: array count");
  std::size_t i = 0;
  for (const auto& entry : views)
    check_array(i++, entry.second);
}

void weights(benchmark::State& state, Transport transport, bool buffer_digests) {
  guarded(state, [&] {
    const std::vector<Buffer> frames = canned_weights().frames();
    Session sender(session_options(buffer_digests));
    auto receiver = std::make_shared<Session>(session_options(buffer_digests));
    Link link(
        transport,
        [receiver](zmq::socket_t& socket) {
          std::optional<Message> m = receiver->receive(socket, std::chrono::seconds(120));
          if (!m) {
            throw std::runtime_error("no valid message within 120 s; " +
                                     std::to_string(receiver->refusals().total()) + " refused");
          }
          if (m->header.msg_type == "stop") return false;
          check_weights(m->buffers);
          return true;
        },
        [&sender](zmq::socket_t& socket) { sender.send(socket, sender.message("stop")); });
    const Counting counting;
    std::uint64_t sent = 0;
    for (auto _ : state) {
      Message m = sender.message("weights");
      m.buffers = frames;
      sender.send(link.socket(), m);
      link.progress().wait_for(++sent);
    }
    counting.report(state);
    set_bytes(state, weights_bytes);
  });
}

// libzmq's free callback for memory that outlives every message.
void keep_memory(void* /*data*/, void* /*hint*/) {}

// The raw baselines' message: the canned header, then each array zero-copy.
void send_raw_weights(zmq::socket_t& socket, const cannery::CannedObject& canned) {
  check_sent(socket
                 .send(zmq::message_t(canned.header.data(), canned.header.size()),
                       zmq::send_flags::sndmore)
                 .has_value());
  for (std::size_t i = 0; i < canned.buffers.size(); ++i) {
    const Buffer& b = canned.buffers[i];
    zmq::message_t part(const_cast<std::byte*>(b.data()), b.size(), keep_memory);
    check_sent(socket
                   .send(part, i + 1 < canned.buffers.size() ? zmq::send_flags::sndmore
                                                             : zmq::send_flags::none)
                   .has_value());
  }
}

void raw_zmq_weights(benchmark::State& state, Transport transport) {
  guarded(state, [&] {
    const cannery::CannedObject& canned = canned_weights();
    Link link(
        transport,
        [received = std::make_shared<std::vector<zmq::message_t>>()](zmq::socket_t& socket) {
          std::vector<zmq::message_t>& parts = *received;
          receive_parts(socket, parts);
          if (is_raw_stop(parts)) return false;
          if (parts.size() != 2 + weight_arrays) throw std::runtime_error("weights: frame count");
          // As the cannery side does: look at each array's first element.
          for (std::size_t i = 0; i < weight_arrays; ++i) {
            const zmq::message_t& part = parts[2 + i];
            check_array(i, {part.data<double>(), part.size() / sizeof(double)});
          }
          // Freed before the next message is sent, as the cannery side does:
          // whether libc hands the next one recycled or fresh pages depends
          // on it.
          parts.clear();
          return true;
        },
        send_raw_stop);
    zmq::socket_t& socket = link.socket();
    const Counting counting;
    std::uint64_t sent = 0;
    for (auto _ : state) {
      send_raw_weights(socket, canned);
      link.progress().wait_for(++sent);
    }
    counting.report(state);
    set_bytes(state, weights_bytes);
  });
}

// --- weights, repeated ----------------------------------------------------------
//
// Ten weights messages in a row to the same receiver, as a stream of large
// objects arrives at an engine: from the second on, the receiver's memory has
// been used before (receive_memory.hpp), so what is measured is the transfer
// rather than the kernel handing out fresh pages.

constexpr int repeated_messages = 10;

// Minor page faults of this process per message after the first of a run
// (the first one's memory is fresh for anybody).
class FaultsAfterFirst {
 public:
  void first_done() { start_ = cannery::bench::minor_faults(); }
  void report(benchmark::State& state) const {
    const auto later = static_cast<double>(state.iterations()) * (repeated_messages - 1);
    state.counters["faults_after_first"] =
        static_cast<double>(cannery::bench::minor_faults() - start_) / std::max(later, 1.0);
  }

 private:
  std::uint64_t start_ = 0;
};

void weights_repeated(benchmark::State& state, Transport transport) {
  guarded(state, [&] {
    const std::vector<Buffer> frames = canned_weights().frames();
    Session sender(session_options());
    auto receiver = std::make_shared<Session>(session_options());
    auto keeper = std::make_shared<cannery::ReceiveMemoryKeeper>();
    Link link(
        transport,
        [receiver, keeper](zmq::socket_t& socket) {
          std::size_t bytes = 0;
          {
            std::optional<Message> m = receiver->receive(socket, std::chrono::seconds(120));
            if (!m) throw std::runtime_error("no valid message within 120 s");
            if (m->header.msg_type == "stop") return false;
            check_weights(m->buffers);
            bytes = cannery::buffer_bytes(m->buffers);
          }
          // As the engine's loop does once a message is handled and freed.
          keeper->after_message(bytes, std::chrono::steady_clock::now());
          return true;
        },
        [&sender](zmq::socket_t& socket) { sender.send(socket, sender.message("stop")); });
    const Counting counting;
    FaultsAfterFirst faults;
    std::uint64_t sent = 0;
    for (auto _ : state) {
      for (int k = 0; k < repeated_messages; ++k) {
        Message m = sender.message("weights");
        m.buffers = frames;
        sender.send(link.socket(), m);
        link.progress().wait_for(++sent);
        if (sent == 1) faults.first_done();
      }
    }
    counting.report(state, repeated_messages);
    faults.report(state);
    set_bytes(state, weights_bytes * repeated_messages);
  });
}

// The raw baseline that does the most a libzmq user can: each frame received
// into the same buffers every time (zmq_recv into a buffer of the right size,
// written once before the run), then checked as above.
void raw_zmq_weights_reused(benchmark::State& state, Transport transport) {
  guarded(state, [&] {
    const cannery::CannedObject& canned = canned_weights();
    struct Buffers {
      std::vector<std::byte> small = std::vector<std::byte>(1 << 16, std::byte{1});
      std::vector<std::vector<std::byte>> arrays;
    };
    auto buffers = std::make_shared<Buffers>();
    for (std::size_t i = 0; i < weight_arrays; ++i)
      buffers->arrays.emplace_back(weight_elements * sizeof(double), std::byte{1});
    Link link(
        transport,
        [buffers](zmq::socket_t& socket) {
          auto receive_into = [&](std::span<std::byte> into) {
            const auto got = socket.recv(zmq::mutable_buffer(into.data(), into.size()));
            if (!got || got->truncated()) throw std::runtime_error("weights: a frame too large");
            return got->size;
          };
          receive_into(buffers->small);  // the routing id
          const std::size_t header = receive_into(buffers->small);
          if (!socket.get(zmq::sockopt::rcvmore)) {
            if (std::string_view(reinterpret_cast<const char*>(buffers->small.data()), header) ==
                "stop") {
              return false;
            }
            throw std::runtime_error("weights: a message without arrays");
          }
          for (std::size_t i = 0; i < weight_arrays; ++i) {
            std::vector<std::byte>& into = buffers->arrays[i];
            if (receive_into(into) != into.size()) throw std::runtime_error("weights: array size");
            check_array(i, {reinterpret_cast<const double*>(into.data()), weight_elements});
          }
          if (socket.get(zmq::sockopt::rcvmore)) throw std::runtime_error("weights: frame count");
          return true;
        },
        send_raw_stop);
    zmq::socket_t& socket = link.socket();
    const Counting counting;
    FaultsAfterFirst faults;
    std::uint64_t sent = 0;
    for (auto _ : state) {
      for (int k = 0; k < repeated_messages; ++k) {
        send_raw_weights(socket, canned);
        link.progress().wait_for(++sent);
        if (sent == 1) faults.first_done();
      }
    }
    counting.report(state, repeated_messages);
    faults.report(state);
    set_bytes(state, weights_bytes * repeated_messages);
  });
}

// --- borrowed spans ---------------------------------------------------------------
//
// One array canned from a span of the caller's memory (a borrowed frame), sent
// with Session::send and uncanned as a view by the receiver, against cppzmq
// sending the same bytes zero-copy plus a small header.

// `values` hold 1.5 each; the sweep's are made once per size (sweep_values).
// `warm_up`: one message sent and received before the timing, so that what
// is timed is the steady state, the receiver's memory used before, whichever
// side of a pair runs first (the sweep's 400 MB are timed in one iteration).
void borrowed_span_of(benchmark::State& state, Transport transport,
                      const std::vector<double>& values, bool warm_up) {
  guarded(state, [&] {
    const std::size_t bytes = values.size() * sizeof(double);
    Session sender(session_options());
    auto receiver = std::make_shared<Session>(session_options());
    const std::size_t count = values.size();
    Link link(
        transport,
        [receiver, count](zmq::socket_t& socket) {
          std::optional<Message> m = receiver->receive(socket, std::chrono::seconds(120));
          if (!m) throw std::runtime_error("no valid message within 120 s");
          if (m->header.msg_type == "stop") return false;
          const auto view = cannery::deserialize_object<std::span<const double>>(m->buffers).value;
          if (view.size() != count || view.back() != 1.5) throw std::runtime_error("span differs");
          return true;
        },
        [&sender](zmq::socket_t& socket) { sender.send(socket, sender.message("stop")); });
    std::uint64_t sent = 0;
    auto send_one = [&] {
      Message m = sender.message("span");
      m.buffers = cannery::can(std::span<const double>(values)).frames();
      sender.send(link.socket(), m);
      link.progress().wait_for(++sent);
    };
    if (warm_up) send_one();
    const Counting counting;
    for (auto _ : state)
      send_one();
    counting.report(state);
    set_bytes(state, bytes);
  });
}

void raw_zmq_span_of(benchmark::State& state, Transport transport,
                     const std::vector<double>& values, bool warm_up) {
  guarded(state, [&] {
    const std::size_t bytes = values.size() * sizeof(double);
    const std::size_t count = values.size();
    Link link(
        transport,
        [count, received = std::make_shared<std::vector<zmq::message_t>>()](zmq::socket_t& socket) {
          std::vector<zmq::message_t>& parts = *received;
          receive_parts(socket, parts);
          if (is_raw_stop(parts)) return false;
          if (parts.size() != 3 || parts[2].size() != count * sizeof(double) ||
              parts[2].data<double>()[count - 1] != 1.5) {
            throw std::runtime_error("span differs");
          }
          parts.clear();
          return true;
        },
        send_raw_stop);
    zmq::socket_t& socket = link.socket();
    std::uint64_t sent = 0;
    auto send_one = [&] {
      check_sent(socket.send(zmq::str_buffer("header"), zmq::send_flags::sndmore).has_value());
      zmq::message_t data(const_cast<double*>(values.data()), bytes, keep_memory);
      check_sent(socket.send(data, zmq::send_flags::none).has_value());
      link.progress().wait_for(++sent);
    };
    if (warm_up) send_one();
    const Counting counting;
    for (auto _ : state)
      send_one();
    counting.report(state);
    set_bytes(state, bytes);
  });
}

void borrowed_span(benchmark::State& state, Transport transport, std::size_t bytes) {
  borrowed_span_of(state, transport, std::vector<double>(bytes / sizeof(double), 1.5), false);
}

void raw_zmq_span(benchmark::State& state, Transport transport, std::size_t bytes) {
  raw_zmq_span_of(state, transport, std::vector<double>(bytes / sizeof(double), 1.5), false);
}

// The sweep's arrays, made once per size and process: Google Benchmark runs
// a benchmark function several times while it settles on an iteration
// count, and first touch of 400 MB each time would dominate the run.
const std::vector<double>& sweep_values(std::size_t bytes) {
  static std::map<std::size_t, std::vector<double>> cache;
  auto [it, fresh] = cache.try_emplace(bytes);
  if (fresh) it->second.assign(bytes / sizeof(double), 1.5);
  return it->second;
}

void sweep_span(benchmark::State& state, Transport transport, std::size_t bytes) {
  borrowed_span_of(state, transport, sweep_values(bytes), true);
}

void sweep_raw_zmq_span(benchmark::State& state, Transport transport, std::size_t bytes) {
  raw_zmq_span_of(state, transport, sweep_values(bytes), true);
}

// --- small messages -------------------------------------------------------------

struct SmallCall {
  std::int64_t id = 1234567;
  std::string name = "gradient.norm";
  double value = 0.5;
  std::vector<double> samples = std::vector<double>(16, 0.25);

  std::vector<Buffer> pack() const {
    return cannery::pack_apply_message("record", id, name, value, samples);
  }
};

// Messages per iteration; at most two batches are in flight.
constexpr std::uint64_t small_batch = 500;

// Sends small_batch messages per iteration without waiting for each to
// arrive (throughput, not latency), and waits for the last in the last
// iteration, so that every message timed was also received.
template <class SendOne>
void run_pipelined(benchmark::State& state, Link& link, SendOne&& send_one) {
  send_one();  // connects, and warms both sides up
  link.progress().wait_for(1);
  std::uint64_t sent = 1;
  const Counting counting;
  const double receiver_cpu = link.receiver_cpu_seconds();
  benchmark::IterationCount iteration = 0;
  for (auto _ : state) {
    if (sent > small_batch) link.progress().wait_for(sent - small_batch);
    for (std::uint64_t i = 0; i < small_batch; ++i)
      send_one();
    sent += small_batch;
    if (++iteration == state.max_iterations) link.progress().wait_for(sent);
  }
  counting.report(state, small_batch);
  state.counters["receiver_cpu_us"] =
      1e6 * (link.receiver_cpu_seconds() - receiver_cpu) / static_cast<double>(sent - 1);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(small_batch));
}

void small_message(benchmark::State& state, Transport transport) {
  guarded(state, [&] {
    const SmallCall call;
    Session sender(session_options());
    auto receiver = std::make_shared<Session>(session_options());
    Link link(
        transport,
        [receiver, &call](zmq::socket_t& socket) {
          auto frames = cannery::receive_frames(socket, receiver->options().frames);
          if (!frames) throw std::runtime_error("receive failed");
          Message m = receiver->deserialize(std::move(*frames));
          if (m.header.msg_type == "stop") return false;
          auto apply = cannery::unpack_apply_message(m.buffers);
          auto id = apply.next_arg<std::int64_t>();
          auto name = apply.next_arg<std::string>();
          auto value = apply.next_arg<double>();
          auto samples = apply.next_arg<std::vector<double>>();
          if (id != call.id || name != call.name || value != call.value ||
              samples != call.samples) {
            throw std::runtime_error("small message differs");
          }
          return true;
        },
        [&sender](zmq::socket_t& socket) { sender.send(socket, sender.message("stop")); });
    run_pipelined(state, link, [&] {
      Message m = sender.message("apply_request");
      m.buffers = call.pack();
      sender.send(link.socket(), std::move(m));
    });
  });
}

void raw_zmq_small(benchmark::State& state, Transport transport) {
  guarded(state, [&] {
    // The frames a cannery message of this call has on the wire (signature
    // included), sent as they are: no header made, nothing signed or checked.
    Session session(session_options());
    Message m = session.message("apply_request");
    m.buffers = SmallCall().pack();
    const std::vector<Buffer> frames = session.serialize(m);
    Link link(
        transport,
        [received = std::make_shared<std::vector<zmq::message_t>>(),
         expected = frames.size() + 1](zmq::socket_t& socket) {
          std::vector<zmq::message_t>& parts = *received;
          receive_parts(socket, parts);
          if (is_raw_stop(parts)) return false;
          if (parts.size() != expected) throw std::runtime_error("small message: frame count");
          return true;
        },
        send_raw_stop);
    zmq::socket_t& socket = link.socket();
    run_pipelined(state, link, [&] {
      for (std::size_t i = 0; i < frames.size(); ++i) {
        check_sent(
            socket
                .send(zmq::message_t(frames[i].data(), frames[i].size()),
                      i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none)
                .has_value());
      }
    });
  });
}

// --- integrity ------------------------------------------------------------------

// The four signed frames of a typical request (header, {}, {}, {}), the
// content grown so that they total `total` bytes.
std::vector<Buffer> signed_frames(std::size_t total) {
  Session session(session_options());
  Message m = session.message("apply_request");
  m.buffers = SmallCall().pack();
  const std::vector<Buffer> frames = session.serialize(m);
  std::vector<Buffer> out(frames.begin() + 2, frames.begin() + 6);  // after delimiter, signature
  std::size_t others = 0;
  for (std::size_t i = 0; i < 3; ++i)
    others += out[i].size();
  if (total > others + out[3].size()) out[3] = Buffer::take(std::string(total - others, 'x'));
  return out;
}

// Signs `variants` in turn; each comes from a Session of its own, so its
// header starts with its own session id.
void sign_in_turn(benchmark::State& state, std::size_t variants) {
  std::vector<std::vector<Buffer>> frames;
  for (std::size_t i = 0; i < variants; ++i)
    frames.push_back(signed_frames(static_cast<std::size_t>(state.range(0))));
  const cannery::Signer signer(bench_key);
  const Counting counting;
  std::size_t next = 0;
  for (auto _ : state) {
    std::string signature = signer.sign(frames[next]);
    benchmark::DoNotOptimize(signature);
    next = next + 1 == variants ? 0 : next + 1;
  }
  counting.report(state);
  state.counters["signed_bytes"] = static_cast<double>(total_size(frames[0]));
  set_bytes(state, total_size(frames[0]));
}

void hmac_sign(benchmark::State& state) {
  sign_in_turn(state, 1);
}

void hmac_sign_new_header(benchmark::State& state) {
  sign_in_turn(state, 8);  // the Signer remembers four header starts
}

void buffer_digest(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const Buffer buffer = Buffer::take(std::vector<std::byte>(bytes, std::byte{1}));
  const Counting counting;
  for (auto _ : state) {
    std::string digest = cannery::buffer_digest(buffer);
    benchmark::DoNotOptimize(digest);
  }
  counting.report(state);
  set_bytes(state, bytes);
}

// --- frames -----------------------------------------------------------------------

// One frame through to_zmq_message, an inproc PAIR and back out: the copy
// (malloc + memcpy) against the handover (owner on the heap, a zmq content
// block, the free callback). inproc adds no copy of its own, so this is the
// difference the threshold decides on; tcp or ipc add their own per-byte cost
// to both.
void frame_transfer(benchmark::State& state, bool zero_copy) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const Buffer buffer = Buffer::take(std::vector<std::byte>(bytes, std::byte{1}));
  cannery::FrameOptions options;
  options.copy_threshold = zero_copy ? 0 : std::numeric_limits<std::size_t>::max();
  zmq::context_t context(1);
  zmq::socket_t in(context, zmq::socket_type::pair);
  zmq::socket_t out(context, zmq::socket_type::pair);
  in.bind("inproc://frames");
  out.connect("inproc://frames");
  const Counting counting;
  for (auto _ : state) {
    if (!out.send(cannery::to_zmq_message(buffer, options), zmq::send_flags::none)) {
      state.SkipWithError("send failed");
      break;
    }
    zmq::message_t received;
    if (!in.recv(received)) {
      state.SkipWithError("receive failed");
      break;
    }
    benchmark::DoNotOptimize(received.data());
  }
  counting.report(state);
  set_bytes(state, bytes);
}

// --- Registration ---------------------------------------------------------------

// Interleaved rounds per transport benchmark. The small messages take a
// second a round and this VM has slow spells of several seconds, so they get
// more rounds: the fastest round of each side is then less often one that a
// spell happened to miss on one side only.
constexpr int weights_rounds = 3;
constexpr int small_rounds = 5;
constexpr int repeated_rounds = 2;
const std::pair<std::string, std::size_t> span_sizes[] = {{"16MiB", std::size_t{16} << 20},
                                                          {"256MiB", std::size_t{256} << 20}};
constexpr std::size_t sweep_sizes[] = {1 << 10, 16 << 10, 256 << 10,
                                       4 << 20, 64 << 20, 400'000'000};
constexpr std::int64_t smallest_frame = 64;
constexpr std::int64_t largest_frame = 1 << 20;

void register_benchmarks() {
  using benchmark::RegisterBenchmark;
  constexpr auto ms = benchmark::kMillisecond;
  constexpr auto us = benchmark::kMicrosecond;
  constexpr Transport tcp = Transport::tcp;
  constexpr Transport ipc = Transport::ipc;
  for (int round = 0; round < weights_rounds; ++round) {
    RegisterBenchmark("raw_zmq_weights_tcp", raw_zmq_weights, tcp)->UseRealTime()->Unit(ms);
    RegisterBenchmark("weights_tcp", weights, tcp, false)->UseRealTime()->Unit(ms);
    RegisterBenchmark("raw_zmq_weights_ipc", raw_zmq_weights, ipc)->UseRealTime()->Unit(ms);
    RegisterBenchmark("weights_ipc", weights, ipc, false)->UseRealTime()->Unit(ms);
  }
  RegisterBenchmark("weights_tcp_digests", weights, tcp, true)->UseRealTime()->Unit(ms);
  for (int round = 0; round < repeated_rounds; ++round) {
    RegisterBenchmark("raw_zmq_weights_tcp_reused", raw_zmq_weights_reused, tcp)
        ->UseRealTime()
        ->Unit(ms)
        ->Iterations(1);
    RegisterBenchmark("weights_tcp_repeated", weights_repeated, tcp)
        ->UseRealTime()
        ->Unit(ms)
        ->Iterations(1);
    RegisterBenchmark("weights_ipc_repeated", weights_repeated, ipc)
        ->UseRealTime()
        ->Unit(ms)
        ->Iterations(1);
  }
  for (int round = 0; round < weights_rounds; ++round) {
    for (const auto& [name, bytes] : span_sizes) {
      RegisterBenchmark(("raw_zmq_span_tcp/" + name).c_str(), raw_zmq_span, tcp, bytes)
          ->UseRealTime()
          ->Unit(ms);
      RegisterBenchmark(("borrowed_span_tcp/" + name).c_str(), borrowed_span, tcp, bytes)
          ->UseRealTime()
          ->Unit(ms);
    }
  }
  for (const std::size_t bytes : sweep_sizes) {
    const std::string size = std::to_string(bytes);
    RegisterBenchmark(("sweep_raw_zmq_span_tcp/" + size).c_str(), sweep_raw_zmq_span, tcp, bytes)
        ->UseRealTime()
        ->Unit(us);
    RegisterBenchmark(("sweep_span_tcp/" + size).c_str(), sweep_span, tcp, bytes)
        ->UseRealTime()
        ->Unit(us);
  }
  for (int round = 0; round < small_rounds; ++round) {
    RegisterBenchmark("raw_zmq_small_tcp", raw_zmq_small, tcp)->UseRealTime()->Unit(us);
    RegisterBenchmark("small_message_tcp", small_message, tcp)->UseRealTime()->Unit(us);
    RegisterBenchmark("raw_zmq_small_ipc", raw_zmq_small, ipc)->UseRealTime()->Unit(us);
    RegisterBenchmark("small_message_ipc", small_message, ipc)->UseRealTime()->Unit(us);
  }
  RegisterBenchmark("hmac_sign", hmac_sign)->Arg(256)->Arg(4096)->Arg(65536);
  RegisterBenchmark("hmac_sign_new_header", hmac_sign_new_header)->Arg(256)->Arg(4096)->Arg(65536);
  RegisterBenchmark("buffer_digest", buffer_digest)->Arg(65536)->Arg(8'000'000)->Unit(us);
  for (const bool zero_copy : {false, true}) {
    RegisterBenchmark(zero_copy ? "frame_zero_copy" : "frame_copy", frame_transfer, zero_copy)
        ->RangeMultiplier(2)
        ->Range(smallest_frame, largest_frame);
  }
}

// --- Summary ------------------------------------------------------------------

double gbps(double seconds) {
  return static_cast<double>(weights_bytes) / seconds / 1e9;
}

void print_crossover(const Times& times) {
  std::int64_t crossover = 0;  // smallest size from which handing over is always faster
  bool any = false;
  for (std::int64_t bytes = smallest_frame; bytes <= largest_frame; bytes *= 2) {
    const double* copy = times.find("frame_copy/" + std::to_string(bytes));
    const double* zero = times.find("frame_zero_copy/" + std::to_string(bytes));
    if (copy == nullptr || zero == nullptr) continue;
    if (!any) std::fprintf(stderr, "  frame size   copy (us)   zero copy (us)   copy / zero\n");
    any = true;
    std::fprintf(stderr, "  %8lld   %9.3f   %14.3f   %11.2f\n", static_cast<long long>(bytes),
                 *copy * 1e6, *zero * 1e6, *copy / *zero);
    if (*zero >= *copy) {
      crossover = 0;
    } else if (crossover == 0) {
      crossover = bytes;
    }
  }
  if (!any) return;
  const std::size_t threshold = cannery::FrameOptions{}.copy_threshold;
  if (crossover == 0) {
    std::fprintf(stderr, "  zero copy never wins up to %lld bytes (copy_threshold is %zu)\n",
                 static_cast<long long>(largest_frame), threshold);
  } else {
    std::fprintf(stderr, "  zero copy is faster from %lld bytes on; copy_threshold is %zu bytes\n",
                 static_cast<long long>(crossover), threshold);
  }
}

void print_summary(const Times& times) {
  std::fprintf(stderr,
               "\nSummary (fastest round of each; ratios, not absolute times, are the claim)\n");
  for (const char* transport : {"tcp", "ipc"}) {
    const std::string mine = std::string("weights_") + transport;
    const std::string raw = std::string("raw_zmq_weights_") + transport;
    const double* t = times.find(mine);
    const double* r = times.find(raw);
    if (t == nullptr || r == nullptr) continue;
    std::fprintf(
        stderr, "  %-20s %6.2f GB/s vs raw zmq %6.2f GB/s: %5.1f%% of raw, target >= 90%%: %s\n",
        mine.c_str(), gbps(*t), gbps(*r), 100 * *r / *t, *r / *t >= 0.9 ? "met" : "MISSED");
  }
  if (const double* r = times.find("raw_zmq_weights_tcp_reused")) {
    for (const char* mine : {"weights_tcp_repeated", "weights_ipc_repeated"}) {
      const double* t = times.find(mine);
      if (t == nullptr) continue;
      std::fprintf(stderr,
                   "  %-20s %6.2f GB/s vs raw zmq reusing its buffers %6.2f GB/s: %.2fx, "
                   "target >= 0.9x: %s\n",
                   mine, repeated_messages * gbps(*t), repeated_messages * gbps(*r), *r / *t,
                   *r / *t >= 0.9 ? "met" : "MISSED");
    }
  }
  for (const auto& [name, bytes] : span_sizes) {
    const double* t = times.find("borrowed_span_tcp/" + name);
    const double* r = times.find("raw_zmq_span_tcp/" + name);
    if (t == nullptr || r == nullptr) continue;
    const auto size = static_cast<double>(bytes);
    std::fprintf(stderr,
                 "  borrowed_span_tcp/%-6s %6.2f GB/s vs raw zmq %6.2f GB/s: %.2fx, target >= "
                 "0.9x: %s\n",
                 name.c_str(), size / *t / 1e9, size / *r / 1e9, *r / *t,
                 *r / *t >= 0.9 ? "met" : "MISSED");
  }
  for (const char* transport : {"tcp", "ipc"}) {
    const std::string mine = std::string("small_message_") + transport;
    const std::string raw = std::string("raw_zmq_small_") + transport;
    const double* t = times.find(mine);
    const double* r = times.find(raw);
    if (t == nullptr || r == nullptr) continue;
    const auto batch = static_cast<double>(small_batch);
    std::fprintf(stderr,
                 "  %-20s %8.0f msg/s vs raw zmq %8.0f msg/s: %5.1f%% of raw, target >= 50%%: "
                 "%s\n",
                 mine.c_str(), batch / *t, batch / *r, 100 * *r / *t,
                 *r / *t >= 0.5 ? "met" : "MISSED");
  }
  for (const char* size : {"256", "4096", "65536"}) {
    const double* t = times.find(std::string("hmac_sign/") + size);
    if (t == nullptr) continue;
    std::fprintf(stderr, "  hmac_sign/%-10s %8.3f us per message", size, *t * 1e6);
    if (const double* cold = times.find(std::string("hmac_sign_new_header/") + size))
      std::fprintf(stderr, " (%.3f us when the header's start is new)", *cold * 1e6);
    std::fprintf(stderr, "\n");
  }
  for (const char* size : {"65536", "8000000"}) {
    if (const double* t = times.find(std::string("buffer_digest/") + size)) {
      std::fprintf(stderr, "  buffer_digest/%-7s %8.2f GB/s\n", size, std::stod(size) / *t / 1e9);
    }
  }
  if (const double* d = times.find("weights_tcp_digests")) {
    if (const double* t = times.find("weights_tcp")) {
      std::fprintf(stderr,
                   "  weights_tcp_digests  %6.2f GB/s: %.2fx the time of weights_tcp (+%.0f ms "
                   "per 400 MB message)\n",
                   gbps(*d), *d / *t, (*d - *t) * 1e3);
    }
  }
  print_crossover(times);
}

}  // namespace

int main(int argc, char** argv) {
  // As cannery-engine does, before any thread starts: received frames land in
  // memory used before, for cannery and raw libzmq alike.
  if (!cannery::keep_receive_memory_warm(std::size_t{1} << 30)) {
    std::fprintf(stderr,
                 "bench_messaging: the allocator is not glibc's; received memory stays "
                 "fresh for every message\n");
  }
  register_benchmarks();
  cannery::bench::register_compressed_link();
  const int status = cannery::bench::run_benchmarks(argc, argv, print_summary);
  if (!ipc_dir().empty()) rmdir(ipc_dir().c_str());
  return status;
}
