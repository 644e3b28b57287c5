// compressed_link/<codec>/<data>: one 64 MiB array sent with Session over a
// 1 Gbit/s link between two test hosts (DESIGN.md, "Test hosts"; root
// only), compressed by the link's FrameCompressor, received, decompressed
// and uncanned as a view; the receiver acknowledges each. bytes_per_second
// is the array's bytes over the time from the send until the
// acknowledgement: the effective throughput. Baseline compressed_link/none/
// <data>, the same link uncompressed, in the same run: `vs_none` is its time
// over this one's (above 1: faster). `wire_fraction`: bytes on the link over
// the array's bytes.
//
// Data: smooth (a smooth float64 field resolved to 4 decimals, as
// instruments and many simulation outputs are), zeros, integers (int64
// counts below 1000), random (uniform float64: no codec shrinks it).

#include "compressed_link.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <cannery/messaging.hpp>

#include "test_hosts.hpp"

namespace cannery::bench {
namespace {

constexpr std::size_t array_bytes = std::size_t{64} << 20;
constexpr std::size_t elements = array_bytes / 8;
constexpr std::uint16_t port = 47311;
const std::string key = "compressed-link-bench";

std::vector<Buffer> canned(const std::string& data) {
  std::mt19937_64 engine(11);
  if (data == "integers") {
    std::uniform_int_distribution<std::int64_t> counts(0, 999);
    std::vector<std::int64_t> v(elements);
    for (auto& x : v)
      x = counts(engine);
    return serialize_object(std::move(v));
  }
  std::vector<double> v(elements, 0.0);
  if (data == "smooth") {
    for (std::size_t i = 0; i < elements; ++i) {
      const double x = static_cast<double>(i) * 1e-5;
      v[i] = std::round((std::sin(x) + 0.5 * std::sin(3.1 * x)) * 1e4) / 1e4;
    }
  } else if (data == "random") {
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    for (auto& x : v)
      x = uniform(engine);
  }
  return serialize_object(std::move(v));
}

// Seconds per transfer of the uncompressed link, per data kind, this run.
std::map<std::string, double>& none_seconds() {
  static std::map<std::string, double> seconds;
  return seconds;
}

void compressed_link(benchmark::State& state, Codec codec, const std::string& data) {
  test::TestHosts hosts(2, "1gbit");
  if (!hosts.available()) {
    state.SkipWithError(("no test hosts: " + hosts.why_not()).c_str());
    return;
  }
  SessionOptions options;
  options.key = key;
  std::atomic<bool> bound{false};
  std::atomic<std::uint64_t> wrong{0};
  const std::string endpoint = "tcp://" + test::TestHosts::address(1) + ":" + std::to_string(port);
  // The receiver on host 1: its context, so its I/O thread, made there.
  std::thread receiver([&] {
    auto inside = hosts.enter(1);
    zmq::context_t context;
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.bind(endpoint);
    bound = true;
    Session session(options);
    for (;;) {
      std::optional<Message> m = session.receive(router, std::chrono::milliseconds(60000));
      if (!m || m->header.msg_type == "stop") return;
      // Uncanned as a view of the (decompressed) frame, as a receiver would.
      const NDArray array = deserialize_object<NDArray>(m->buffers).value;
      if (array.nbytes() != array_bytes) ++wrong;
      Message ack = session.message("ack", Object::Dict{}, &*m);
      session.send(router, ack);
    }
  });
  while (!bound)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    auto inside = hosts.enter(0);
    zmq::context_t context;
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(endpoint);
    Session session(options);
    LinkCompression link;
    link.codec = codec;
    auto compressor = std::make_shared<FrameCompressor>(link);
    const std::vector<Buffer> frames = canned(data);
    std::uint64_t wire_bytes = 0;
    double seconds = 0;
    for (auto _ : state) {
      const auto start = std::chrono::steady_clock::now();
      Message m = session.message("array");
      m.buffers = frames;
      m.compressor = codec == Codec::none ? nullptr : compressor;
      const std::vector<Buffer> sent = session.serialize(m);
      for (std::size_t i = 6; i < sent.size(); ++i)
        wire_bytes += sent[i].size();
      send_frames(dealer, sent);
      if (!session.receive(dealer, std::chrono::milliseconds(120000))) {
        state.SkipWithError("no acknowledgement within 120 s");
        break;
      }
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    session.send(dealer, session.message("stop"));
    const double per_transfer = seconds / static_cast<double>(state.iterations());
    const double raw = static_cast<double>(total_size(frames));
    state.counters["wire_fraction"] =
        static_cast<double>(wire_bytes) / raw / static_cast<double>(state.iterations());
    if (codec == Codec::none) none_seconds()[data] = per_transfer;
    if (auto it = none_seconds().find(data); it != none_seconds().end())
      state.counters["vs_none"] = it->second / per_transfer;
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(array_bytes));
  }
  receiver.join();
  if (wrong != 0) state.SkipWithError("the receiver uncanned an array of the wrong size");
}

}  // namespace

void register_compressed_link() {
  for (const char* data : {"smooth", "zeros", "integers", "random"}) {
    // none first: the others' vs_none divides by its time of this run.
    for (Codec codec : {Codec::none, Codec::lz4, Codec::zstd, Codec::blosc_lz4, Codec::blosc_zstd,
                        Codec::automatic}) {
      const std::string name = "compressed_link/" + std::string(to_string(codec)) + "/" + data;
      benchmark::RegisterBenchmark(name.c_str(), compressed_link, codec, std::string(data))
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->Iterations(3);
    }
  }
}

}  // namespace cannery::bench
