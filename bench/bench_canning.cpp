// Canning benchmarks, each next to its baseline in the same process.
//
//   small_message      can + uncan of one message of four small objects
//                      (int64, str, float, 16 doubles), typed; the baseline is
//                      a memcpy of the same payload bytes. Peers (IPython
//                      Parallel, Dask, pickle) are measured beside it in the
//                      same run by scripts/bench-report.sh, never here from a
//                      figure of another day.
//   weights            50 float64 arrays of 1,000,000 elements (400 MB) in a
//                      string-keyed map: serialize (borrowing) + deserialize as
//                      views (no byte copied); the baseline is a memcpy of the
//                      400 MB into warm memory.
//   per_array/N        one array of N bytes, out of band: the cost must not
//                      grow with N (no hidden copy).
//   strided/...        a non-contiguous Eigen block gathered once into the
//                      outgoing frame, against copying it to a plain matrix
//                      first and canning that.
//   sweep_array/N      serialize + deserialize (as a view) of one float64
//                      array of N bytes, N from 1 KiB to 400 MB;
//   sweep_weights/N    the same for 50 float64 arrays of N bytes in all in a
//                      string-keyed map (weights' shape at every size). The
//                      size sweep of scripts/bench-report.sh, which runs its
//                      peers on the same sizes.
//
// Counters: `allocs` is heap allocations per iteration (operator new is
// replaced below), `page_faults` is minor faults per iteration: when it is
// large the benchmark measures first touch of fresh memory, not canning.
// A summary of the ratios against the baselines is printed to stderr at the
// end, so that --benchmark_format=json on stdout stays machine-readable.

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cannery/canning.hpp>

#include "support/counting.hpp"
#include "support/summary.hpp"

namespace {

using cannery::Buffer;
using cannery::deserialize_object;
using cannery::serialize_object;

using cannery::bench::Counting;
using cannery::bench::set_bytes;
using cannery::bench::Times;

// --- small_message ----------------------------------------------------------------

struct SmallMessage {
  std::int64_t id = 1234567;
  std::string name = "gradient.norm";
  double value = 0.5;
  std::vector<double> samples = std::vector<double>(16, 0.25);

  std::size_t payload_bytes() const {
    return sizeof(id) + name.size() + sizeof(value) + samples.size() * sizeof(double);
  }
};

void append(std::vector<Buffer>& message, std::vector<Buffer>&& frames) {
  for (Buffer& frame : frames)
    message.push_back(std::move(frame));
}

// One message: the four objects' frames concatenated.
std::vector<Buffer> can_small(const SmallMessage& m) {
  std::vector<Buffer> message;
  message.reserve(4);
  append(message, serialize_object(m.id));
  append(message, serialize_object(m.name));
  append(message, serialize_object(m.value));
  append(message, serialize_object(m.samples));
  return message;
}

void report_small(benchmark::State& state, const SmallMessage& m) {
  set_bytes(state, m.payload_bytes());
}

void small_message(benchmark::State& state) {
  const SmallMessage m;
  {
    std::vector<Buffer> message = can_small(m);
    auto samples =
        deserialize_object<std::vector<double>>(std::span<const Buffer>(message).subspan(3));
    if (message.size() != 4 || samples.value != m.samples)
      state.SkipWithError("round trip differs");
  }
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> message = can_small(m);
    auto id = deserialize_object<std::int64_t>(message);
    auto name = deserialize_object<std::string>(id.remaining);
    auto value = deserialize_object<double>(name.remaining);
    auto samples = deserialize_object<std::vector<double>>(value.remaining);
    benchmark::DoNotOptimize(id.value);
    benchmark::DoNotOptimize(name.value);
    benchmark::DoNotOptimize(value.value);
    benchmark::DoNotOptimize(samples.value);
  }
  counting.report(state);
  report_small(state, m);
}

void small_message_object(benchmark::State& state) {
  const SmallMessage m;
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> message = can_small(m);
    std::span<const Buffer> rest = message;
    while (!rest.empty()) {
      auto object = deserialize_object(rest);
      benchmark::DoNotOptimize(object.value);
      rest = object.remaining;
    }
  }
  counting.report(state);
  report_small(state, m);
}

void small_message_memcpy(benchmark::State& state) {
  const SmallMessage m;
  std::vector<char> out(m.payload_bytes());
  const Counting counting;
  for (auto _ : state) {
    char* p = out.data();
    std::memcpy(p, &m.id, sizeof(m.id));
    p += sizeof(m.id);
    std::memcpy(p, m.name.data(), m.name.size());
    p += m.name.size();
    std::memcpy(p, &m.value, sizeof(m.value));
    p += sizeof(m.value);
    std::memcpy(p, m.samples.data(), m.samples.size() * sizeof(double));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  counting.report(state);
  report_small(state, m);
}

// --- weights --------------------------------------------------------------------

using Weights = std::map<std::string, std::vector<double>>;
constexpr std::size_t weight_arrays = 50;
constexpr std::size_t weight_elements = 1'000'000;
constexpr std::size_t weights_bytes = weight_arrays * weight_elements * sizeof(double);

// Built (and touched) once, shared by the benchmarks that read it.
const Weights& weights() {
  static const Weights w = [] {
    Weights m;
    for (std::size_t i = 0; i < weight_arrays; ++i) {
      std::string key = "model.layers." + std::to_string(100 + i).substr(1) + ".mlp.weight";
      m.emplace(std::move(key), std::vector<double>(weight_elements, static_cast<double>(i)));
    }
    return m;
  }();
  return w;
}

// The received arrays must view the sender's memory: nothing copied.
template <class Received>
bool all_views(const Weights& w, const Received& received) {
  for (const auto& [key, values] : w) {
    if (received(key) != static_cast<const void*>(values.data())) return false;
  }
  return true;
}

void weights_object(benchmark::State& state) {
  const Weights& w = weights();
  {
    std::vector<Buffer> frames = serialize_object(w);
    auto object = deserialize_object(frames);
    if (!all_views(w, [&](const std::string& key) -> const void* {
          return object.value.at(key).to_ndarray().first_byte();
        })) {
      state.SkipWithError("weights were copied");
    }
  }
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> frames = serialize_object(w);
    auto object = deserialize_object(frames);
    benchmark::DoNotOptimize(object.value);
  }
  counting.report(state);
  set_bytes(state, weights_bytes);
}

void weights_span(benchmark::State& state) {
  using Views = std::map<std::string, std::span<const double>>;
  const Weights& w = weights();
  {
    std::vector<Buffer> frames = serialize_object(w);
    auto views = deserialize_object<Views>(frames);
    if (!all_views(
            w, [&](const std::string& key) -> const void* { return views.value.at(key).data(); })) {
      state.SkipWithError("weights were copied");
    }
  }
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> frames = serialize_object(w);
    auto views = deserialize_object<Views>(frames);
    benchmark::DoNotOptimize(views.value);
  }
  counting.report(state);
  set_bytes(state, weights_bytes);
}

void weights_memcpy(benchmark::State& state) {
  const Weights& w = weights();
  // Warm destination, allocated and touched once.
  static std::vector<double> out(weight_arrays * weight_elements, 1.0);
  const Counting counting;
  for (auto _ : state) {
    double* p = out.data();
    for (const auto& [key, values] : w) {
      std::memcpy(p, values.data(), values.size() * sizeof(double));
      p += values.size();
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  counting.report(state);
  set_bytes(state, weights_bytes);
}

// --- per_array ------------------------------------------------------------------

// Serialize + deserialize of `data` as a view, timed: per_array's and
// sweep_array's loop.
void time_round_trips(benchmark::State& state, const std::vector<double>& data) {
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> frames = serialize_object(data);
    auto view = deserialize_object<std::span<const double>>(frames);
    benchmark::DoNotOptimize(view.value);
  }
  counting.report(state);
  set_bytes(state, data.size() * sizeof(double));
}

void per_array(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const std::vector<double> data(bytes / sizeof(double), 1.0);
  {
    std::vector<Buffer> frames = serialize_object(data);
    auto view = deserialize_object<std::span<const double>>(frames);
    if (view.value.data() != data.data()) state.SkipWithError("the array was copied");
  }
  time_round_trips(state, data);
}

void per_array_memcpy(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const std::vector<double> data(bytes / sizeof(double), 1.0);
  std::vector<double> out(data.size(), 0.0);
  const Counting counting;
  for (auto _ : state) {
    std::memcpy(out.data(), data.data(), bytes);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  counting.report(state);
  set_bytes(state, bytes);
}

// --- strided ------------------------------------------------------------------

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr Eigen::Index big = 4000;

const Eigen::MatrixXd& col_major() {
  static const Eigen::MatrixXd m = Eigen::MatrixXd::NullaryExpr(
      big, big, [](Eigen::Index i, Eigen::Index j) { return static_cast<double>(i * big + j); });
  return m;
}

const RowMatrixXd& row_major() {
  static const RowMatrixXd m = RowMatrixXd::NullaryExpr(
      big, big, [](Eigen::Index i, Eigen::Index j) { return static_cast<double>(i * big + j); });
  return m;
}

// Each case: the strided expression, the owning type it becomes when copied
// first, and the in-place view it is uncanned as (so that the receiving side
// copies nothing in either benchmark).
struct ColMajorBlock {  // 2000 columns of 2000 contiguous doubles
  using Plain = Eigen::MatrixXd;
  using View = Eigen::Map<const Eigen::MatrixXd>;
  static auto expr() { return col_major().block(0, 0, 2000, 2000); }
};
struct RowMajorCols {  // 4000 rows of 2000 contiguous doubles
  using Plain = RowMatrixXd;
  using View = Eigen::Map<const RowMatrixXd>;
  static auto expr() { return row_major().middleCols(0, 2000); }
};
struct RowMajorColumn {  // 4000 doubles, 32000 bytes apart
  using Plain = Eigen::VectorXd;
  using View = Eigen::Map<const Eigen::VectorXd>;
  static auto expr() { return row_major().col(0); }
};

template <class Case, class Expr>
bool same_values(const Expr& expr, const typename Case::View& view) {
  return expr.rows() == view.rows() && expr.cols() == view.cols() &&
         (expr.array() == view.array()).all();
}

template <class Case>
std::size_t case_bytes() {
  return static_cast<std::size_t>(Case::expr().size()) * sizeof(double);
}

template <class Case>
void strided(benchmark::State& state) {
  const auto expr = Case::expr();
  {
    std::vector<Buffer> frames = serialize_object(expr);
    auto got = deserialize_object<typename Case::View>(frames);
    if (!same_values<Case>(expr, got.value)) state.SkipWithError("round trip differs");
  }
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> frames = serialize_object(expr);
    auto got = deserialize_object<typename Case::View>(frames);
    benchmark::DoNotOptimize(got.value.data());
    benchmark::ClobberMemory();
  }
  counting.report(state);
  set_bytes(state, case_bytes<Case>());
}

template <class Case>
void strided_contiguous_then_can(benchmark::State& state) {
  const auto expr = Case::expr();
  {
    typename Case::Plain copy = expr;
    std::vector<Buffer> frames = serialize_object(std::move(copy));
    auto got = deserialize_object<typename Case::View>(frames);
    if (!same_values<Case>(expr, got.value)) state.SkipWithError("round trip differs");
  }
  const Counting counting;
  for (auto _ : state) {
    typename Case::Plain copy = expr;
    std::vector<Buffer> frames = serialize_object(std::move(copy));
    auto got = deserialize_object<typename Case::View>(frames);
    benchmark::DoNotOptimize(got.value.data());
    benchmark::ClobberMemory();
  }
  counting.report(state);
  set_bytes(state, case_bytes<Case>());
}

// --- sweep --------------------------------------------------------------------
//
// The size sweep that scripts/bench-report.sh sets beside its peers: one
// array, and 50 arrays of the same total, from 1 KiB to 400 MB. The data is
// made once per size and process, as Google Benchmark runs each benchmark
// function several times while it settles on an iteration count: first touch
// of 400 MB would otherwise be paid again and again outside the timing.

constexpr std::int64_t sweep_sizes[] = {1 << 10, 16 << 10, 256 << 10,
                                        4 << 20, 64 << 20, 400'000'000};

const std::vector<double>& sweep_array_data(std::size_t bytes) {
  static std::map<std::size_t, std::vector<double>> cache;
  auto [it, fresh] = cache.try_emplace(bytes);
  if (fresh) it->second.assign(bytes / sizeof(double), 1.0);
  return it->second;
}

// 50 arrays of `bytes` in all (the first ones one element longer when the
// elements do not divide evenly); array i holds the value i.
const Weights& sweep_weights_data(std::size_t bytes) {
  static std::map<std::size_t, Weights> cache;
  auto [it, fresh] = cache.try_emplace(bytes);
  if (fresh) {
    const std::size_t elements = bytes / sizeof(double);
    for (std::size_t i = 0; i < weight_arrays; ++i) {
      const std::size_t n = elements / weight_arrays + (i < elements % weight_arrays ? 1 : 0);
      std::string key = "model.layers." + std::to_string(100 + i).substr(1) + ".mlp.weight";
      it->second.emplace(std::move(key), std::vector<double>(n, static_cast<double>(i)));
    }
  }
  return it->second;
}

void sweep_array(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const std::vector<double>& data = sweep_array_data(bytes);
  {
    std::vector<Buffer> frames = serialize_object(data);
    auto view = deserialize_object<std::span<const double>>(frames);
    if (view.value.size() != data.size() || view.value.back() != 1.0)
      state.SkipWithError("round trip differs");
  }
  time_round_trips(state, data);
}

void sweep_weights(benchmark::State& state) {
  using Views = std::map<std::string, std::span<const double>>;
  const auto bytes = static_cast<std::size_t>(state.range(0));
  const Weights& w = sweep_weights_data(bytes);
  {
    std::vector<Buffer> frames = serialize_object(w);
    auto views = deserialize_object<Views>(frames);
    // Keys sort as the arrays were made: array i holds the value i.
    std::size_t total = 0;
    bool same = views.value.size() == weight_arrays;
    double i = 0;
    for (const auto& [key, values] : views.value) {
      total += values.size_bytes();
      same = same && !values.empty() && values.front() == i++;
    }
    if (!same || total != bytes) state.SkipWithError("round trip differs");
  }
  const Counting counting;
  for (auto _ : state) {
    std::vector<Buffer> frames = serialize_object(w);
    auto views = deserialize_object<Views>(frames);
    benchmark::DoNotOptimize(views.value);
  }
  counting.report(state);
  set_bytes(state, bytes);
}

// --- Registration ---------------------------------------------------------------

constexpr auto us = benchmark::kMicrosecond;

BENCHMARK(small_message)->Unit(us);
BENCHMARK(small_message_object)->Unit(us);
BENCHMARK(small_message_memcpy)->Unit(us);

BENCHMARK(weights_object)->Name("weights")->Unit(us);
BENCHMARK(weights_span)->Name("weights_span")->Unit(us);
BENCHMARK(weights_memcpy)->Name("weights_memcpy")->Unit(us);

BENCHMARK(per_array)->Arg(4096)->Arg(8388608)->Unit(us);
BENCHMARK(per_array_memcpy)->Arg(4096)->Arg(8388608)->Unit(us);

BENCHMARK(strided<ColMajorBlock>)->Name("strided/colmajor_block")->Unit(us);
BENCHMARK(strided_contiguous_then_can<ColMajorBlock>)
    ->Name("strided_contiguous_then_can/colmajor_block")
    ->Unit(us);
BENCHMARK(strided<RowMajorCols>)->Name("strided/rowmajor_cols")->Unit(us);
BENCHMARK(strided_contiguous_then_can<RowMajorCols>)
    ->Name("strided_contiguous_then_can/rowmajor_cols")
    ->Unit(us);
BENCHMARK(strided<RowMajorColumn>)->Name("strided/rowmajor_column")->Unit(us);
BENCHMARK(strided_contiguous_then_can<RowMajorColumn>)
    ->Name("strided_contiguous_then_can/rowmajor_column")
    ->Unit(us);

void sweep_sizes_of(benchmark::internal::Benchmark* b) {
  for (const std::int64_t bytes : sweep_sizes)
    b->Arg(bytes);
  b->Unit(us);
}
BENCHMARK(sweep_array)->Apply(sweep_sizes_of);
BENCHMARK(sweep_weights)->Apply(sweep_sizes_of);

// --- Summary ------------------------------------------------------------------

void print_summary(const Times& times) {
  std::fprintf(stderr,
               "\nSummary (time per iteration; ratios, not absolute times, are the claim)\n");
  if (const double* t = times.find("small_message")) {
    std::fprintf(stderr, "  small_message          %9.3f us  target <= 1 us: %s\n", *t * 1e6,
                 *t <= 1e-6 ? "met" : "MISSED");
    times.print_ratio("small_message", "small_message_memcpy",
                      "small_message / memcpy of its payload");
  }
  if (const double* t = times.find("small_message_object")) {
    std::fprintf(stderr, "  small_message_object   %9.3f us\n", *t * 1e6);
  }
  for (const char* name : {"weights", "weights_span"}) {
    if (const double* t = times.find(name)) {
      std::fprintf(stderr, "  %-22s %9.3f us  target <= 25 us: %s\n", name, *t * 1e6,
                   *t <= 25e-6 ? "met" : "MISSED");
      times.print_ratio("weights_memcpy", name, "memcpy of 400 MB / canning it");
    }
  }
  times.print_ratio("per_array/8388608", "per_array/4096",
                    "per_array 8 MiB / 4 KiB (target <= 1.5)");
  times.print_ratio("per_array/4096", "per_array_memcpy/4096", "per_array/4096 / memcpy of 4 KiB");
  times.print_ratio("per_array_memcpy/8388608", "per_array/8388608",
                    "memcpy of 8 MiB / per_array/8388608");
  times.print_ratio("sweep_array/400000000", "sweep_array/1024",
                    "sweep_array 400 MB / 1 KiB (no hidden copy)");
  times.print_ratio("sweep_weights/400000000", "sweep_weights/1024",
                    "sweep_weights 400 MB / 1 KiB (no hidden copy)");
  for (const char* c : {"colmajor_block", "rowmajor_cols", "rowmajor_column"}) {
    times.print_ratio(std::string("strided/") + c, std::string("strided_contiguous_then_can/") + c,
                      std::string("strided / contiguous_then_can, ") + c);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return cannery::bench::run_benchmarks(argc, argv, print_summary);
}
