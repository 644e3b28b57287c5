// Writes the seed corpus of every fuzz target: real canned objects of every
// built-in type and real protocol messages, made by the library itself, in
// the framing of fuzz_support.hpp (and the per-target layouts documented at
// the top of each target).
//
//   cmake --build build-fuzz --target make_corpus
//   build-fuzz/bin/make_corpus fuzz/corpus      # one folder per target
//
// Array sizes straddle the inlining threshold (1024 bytes) and stay small:
// the committed corpus is meant to be a few hundred KB at most. Envelope
// seeds carry random session ids and dates, so reruns differ in those bytes.
#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <complex>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cannery/canning.hpp"
#include "cannery/messaging.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/protocol.hpp"
#include "cannery/messaging/shared_memory.hpp"
#include "envelope_support.hpp"
#include "fuzz_types.hpp"
#include "shared_segment.hpp"

namespace {

using namespace cannery;
namespace proto = cannery::protocol;
using Frames = std::vector<Buffer>;

std::filesystem::path root;
std::size_t written = 0, total_bytes = 0;

bool has_separator(const Frames& frames) {
  for (const Buffer& f : frames) {
    if (f.as_string_view().find(fuzz::separator) != std::string_view::npos) return true;
  }
  return false;
}

void write_bytes(const std::string& target, const std::string& name,
                 const std::vector<std::uint8_t>& bytes) {
  const std::filesystem::path dir = root / target;
  std::filesystem::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ++written;
  total_bytes += bytes.size();
}

// A seed: `prefix` bytes, then the frames in the fuzz framing.
void seed(const std::string& target, const std::string& name, const Frames& frames,
          std::vector<std::uint8_t> prefix = {}) {
  if (has_separator(frames)) {
    std::cerr << "make_corpus: " << target << "/" << name
              << " contains the frame separator; skipped\n";
    return;
  }
  fuzz::append_framed(prefix, frames);
  write_bytes(target, name, prefix);
}

template <class T>
Frames canned(T&& value) {
  return serialize_object(std::forward<T>(value));
}

Frames concat(std::initializer_list<Frames> parts) {
  Frames out;
  for (const Frames& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<double> ramp(std::size_t n, double start = 0.5) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = start + static_cast<double>(i);
  return v;
}

Eigen::SparseMatrix<double> sparse(int rows, int cols, int stride) {
  Eigen::SparseMatrix<double> m(rows, cols);
  for (int j = 0; j < cols; ++j) {
    for (int i = j % stride; i < rows; i += stride)
      m.insert(i, j) = i + 0.25 * j;
  }
  m.makeCompressed();
  return m;
}

fuzzdemo::Particle particle(std::size_t samples) {
  fuzzdemo::Particle p;
  p.pos = Eigen::Vector3d(1, 2, 3);
  p.mass = 4.5;
  p.id = 7;
  p.name = "electron";
  p.samples = ramp(samples);
  p.parent = 3;
  p.tags = {{"kind", "lepton"}, {"charge", "-1"}};
  p.origin = {0.5, -0.5, "origin"};
  return p;
}

// --- Canned objects, by the target that reads them as its type --------------

std::map<std::string, Frames> generic_values() {
  std::map<std::string, Frames> v;
  v["int"] = canned(std::int64_t{42});
  v["negative_int"] = canned(-7);
  v["uint64_max"] = canned(std::numeric_limits<std::uint64_t>::max());
  v["double"] = canned(2.5);
  v["float"] = canned(1.5f);
  v["bool"] = canned(true);
  v["null"] = canned(nullptr);
  v["string"] = canned(std::string("hi"));
  v["complex"] = canned(std::complex<double>(1, -2));
  v["complex_float"] = canned(std::complex<float>(0.5f, 3));
  v["list_of_strings"] = canned(std::vector<std::string>{"a", "b"});
  v["small_bytes"] = canned(std::vector<std::byte>{std::byte{1}, std::byte{2}});
  v["large_bytes"] = canned(std::vector<std::byte>(1100, std::byte{7}));
  v["int32_vector"] = canned(std::vector<std::int32_t>{1, 2, 3});
  v["vector_double_inline"] = canned(ramp(4));
  v["vector_double_frame"] = canned(ramp(130));
  v["vector_bool"] = canned(std::vector<bool>{true, false, true});
  v["uint8_vector"] = canned(std::vector<std::uint8_t>{1, 2, 255});
  v["matrix"] = canned(Eigen::MatrixXd::Identity(2, 3).eval());
  v["sparse"] = canned(sparse(4, 3, 2));
  v["dict_of_arrays"] =
      canned(std::map<std::string, std::vector<double>>{{"a", ramp(200)}, {"b", {0.5}}});
  v["nested_lists"] = canned(std::vector<std::vector<std::string>>{{"x"}, {}, {"y", "z"}});
  v["optional_empty"] = canned(std::optional<int>{});
  v["tuple"] = canned(std::make_tuple(std::int64_t{1}, std::string("two"), 3.0));
  v["point"] = canned(fuzzdemo::Point{1, 2, "p"});
  v["particle"] = canned(particle(3));
  Object::Dict dict{{"name", Object("x")},
                    {"values", Object(Object::List{Object(1), Object(2.5), Object(nullptr)})},
                    {"flag", Object(false)}};
  v["object_dict"] = canned(Object(dict));
  v["two_objects"] = concat({canned(1), canned(std::string("second"))});
  v["apply_message"] = pack_apply_message("f", 1, kw("k", true));
  return v;
}

void canning_seeds() {
  const auto generic = generic_values();
  for (const auto& [name, frames] : generic)
    seed("deserialize_object", name, frames);
  seed("deserialize_object", "apply_trace_scaled",
       pack_apply_message("trace_scaled", Eigen::MatrixXd::Constant(12, 12, 1.0).eval(), 2.0));

  const std::string vd = "deserialize_vector_double";
  seed(vd, "inline", canned(ramp(4)));
  seed(vd, "frame", canned(ramp(130)));
  seed(vd, "empty", canned(std::vector<double>{}));
  seed(vd, "float_vector", canned(std::vector<float>{1, 2, 3}));
  seed(vd, "int_vector", generic.at("int32_vector"));
  seed(vd, "matrix_2d", generic.at("matrix"));
  seed(vd, "list_of_doubles", canned(Object(Object::List{Object(1.0), Object(2.0)})));
  seed(vd, "three_vectors", concat({canned(ramp(2)), canned(ramp(130)), canned(ramp(1))}));
  {
    // Every other element, backwards: a strided view that the writer gathers.
    std::vector<double> base = ramp(10);
    NDArray strided(dtype_of<double>(), {5}, {-16},
                    Buffer::borrow(base.data(), base.size() * sizeof(double)), 72);
    seed(vd, "negative_stride", canned(strided));
  }

  const std::string mv = "deserialize_map_of_int64_vectors";
  std::vector<std::int64_t> big(140);
  for (std::size_t i = 0; i < big.size(); ++i)
    big[i] = static_cast<std::int64_t>(i * i) - 50;
  seed(mv, "small", canned(std::map<std::string, std::vector<std::int64_t>>{{"a", {1, 2, 3}}}));
  seed(mv, "mixed",
       canned(std::map<std::string, std::vector<std::int64_t>>{
           {"big", big}, {"small", {-1}}, {"empty", {}}}));
  seed(mv, "two_frames",
       canned(std::map<std::string, std::vector<std::int64_t>>{{"x", big}, {"y", big}}));
  seed(mv, "unordered_int32",
       canned(std::unordered_map<std::string, std::vector<std::int32_t>>{{"k", {5, 6}}}));
  seed(mv, "empty", canned(std::map<std::string, std::vector<std::int64_t>>{}));
  seed(mv, "dict_of_doubles", generic.at("dict_of_arrays"));

  const std::string em = "deserialize_eigen_matrix";
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 4, 5, 6;
  seed(em, "col_major_small", canned(m));
  seed(em, "col_major_frame", canned(Eigen::MatrixXd::Constant(12, 12, 0.5).eval()));
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rf(3, 2);
  rf << 1, 2, 3, 4, 5, 6;
  seed(em, "row_major_float", canned(rf));
  seed(em, "vector3d", canned(Eigen::Vector3d(1, 2, 3)));
  Eigen::MatrixXd big_m = Eigen::MatrixXd::Constant(20, 20, 2.0);
  seed(em, "strided_block", canned(big_m.block(1, 2, 4, 3)));
  seed(em, "strided_block_frame", canned(big_m.block(0, 0, 12, 12)));
  seed(em, "empty", canned(Eigen::MatrixXd(0, 3)));
  seed(em, "vector_1d", canned(ramp(5)));

  const std::string es = "deserialize_eigen_sparse";
  seed(es, "col_small", canned(sparse(4, 3, 2)));
  Eigen::SparseMatrix<double, Eigen::RowMajor> row_small = sparse(3, 5, 2);
  seed(es, "row_small", canned(row_small));
  seed(es, "col_frames", canned(sparse(30, 30, 3)));
  Eigen::SparseMatrix<double, Eigen::RowMajor> row_big = sparse(30, 30, 3);
  seed(es, "row_frames", canned(row_big));
  seed(es, "empty", canned(Eigen::SparseMatrix<double>(0, 0)));
  seed(es, "no_values", canned(Eigen::SparseMatrix<double>(5, 4)));

  const std::string fs = "deserialize_fields_struct";
  seed(fs, "particle", canned(particle(3)));
  seed(fs, "particle_frame", canned(particle(130)));
  seed(fs, "point", canned(fuzzdemo::Point{1, 2, "p"}));
  fuzzdemo::Particle bare = particle(0);
  bare.parent.reset();
  bare.tags.clear();
  seed(fs, "particle_bare", canned(bare));

  const std::string to = "deserialize_tuple_optional";
  seed(to, "tuple",
       canned(std::make_tuple(std::int64_t{-3}, std::string("s"), std::optional<double>(2.5),
                              std::vector<std::string>{"a"}, std::complex<double>(1, 1), true)));
  seed(to, "tuple_nil",
       canned(std::make_tuple(std::int64_t{9}, std::string(), std::optional<double>(),
                              std::vector<std::string>{}, std::complex<double>(), false)));
  seed(to, "optional_vector", canned(std::optional<std::vector<std::int32_t>>({1, 2})));
  seed(to, "optional_empty", canned(std::optional<std::vector<std::int32_t>>()));
  seed(to, "pair",
       canned(std::make_pair(std::optional<std::string>("x"),
                             std::make_tuple(std::uint8_t{200}, 0.5f))));

  const std::string st = "deserialize_string";
  seed(st, "short", canned(std::string("hi")));
  seed(st, "empty", canned(std::string()));
  seed(st, "long", canned(std::string(300, 'x')));
  seed(st, "utf8", canned(std::string("gr\xc3\xbc\xc3\x9f")));
  seed(st, "list", canned(std::vector<std::string>{"a", "bc", ""}));
  seed(st, "two", concat({canned(std::string("a")), canned(std::string("b"))}));

  const std::string ap = "unpack_apply_message";
  seed(ap, "kwarg", pack_apply_message("f", 1, kw("k", true)));
  seed(ap, "trace_scaled", pack_apply_message("trace_scaled", m, 2.0));
  seed(ap, "sum_frame", pack_apply_message("sum", ramp(130)));
  seed(ap, "no_args", pack_apply_message("pid"));
  seed(ap, "ref", pack_apply_message("echo", proto::RefArgument{7}));
  seed(ap, "describe",
       pack_apply_message("describe", m, ramp(3), 1.5, std::int64_t{3}, std::string("label")));
  seed(ap, "map_chunks", pack_apply_message("add", ramp(3), ramp(3, 10)));
  seed(ap, "kwargs_only", pack_apply_message("g", kw("a", std::string("x")), kw("b", ramp(2))));
}

// --- Envelopes ---------------------------------------------------------------

Session& sender() {
  static Session session(fuzz::session_options());
  return session;
}

// A message as a controller or engine makes it: typed content, buffers.
template <proto::MessageType T>
Message message(const T& content, Frames buffers = {}) {
  return proto::make_message(sender(), content, nullptr, std::move(buffers));
}

std::vector<std::string> batches() {
  return {std::string(proto::capability::batches)};
}

void envelope_seeds() {
  SessionOptions digesting = fuzz::session_options();
  digesting.buffer_digests = true;
  Session with_digests(digesting);

  std::vector<std::pair<std::string, Message>> messages;
  messages.emplace_back("apply_request", message(proto::ApplyRequest{.task = 1,
                                                                     .shared_memory = std::nullopt,
                                                                     .keep_as = std::nullopt},
                                                 pack_apply_message("add", 1.0, 2.0)));
  messages.emplace_back(
      "apply_request_frame",
      message(
          proto::ApplyRequest{.task = 2, .shared_memory = std::nullopt, .keep_as = std::nullopt},
          pack_apply_message("sum", ramp(130))));
  messages.emplace_back("registration", message(proto::RegistrationRequest{
                                            .uuid = "u",
                                            .pid = 12,
                                            .hostname = "h",
                                            .functions = {"echo"},
                                            .protocol = proto::to_string(proto::version),
                                            .capabilities = batches(),
                                            .registrations = 0,
                                            .shared_memory = std::nullopt}));
  messages.emplace_back("empty", message(proto::Heartbeat{}));
  proto::ApplyReply ok;
  ok.task = 1;
  ok.engine_id = 0;
  Message with_parent = message(ok, canned(3.0));
  with_parent.parent_header = messages[0].second.header;
  with_parent.metadata = Object::Dict{{"started", Object("2026-01-01T00:00:00.000000Z")}};
  messages.emplace_back("reply_with_parent", std::move(with_parent));

  for (auto& [name, m] : messages) {
    Frames frames = sender().serialize(m);
    seed("envelope_raw", name, frames);
    Frames routed = frames;
    routed.insert(routed.begin(), Buffer::copy_of("engine-x"));
    seed("envelope_raw", name + "_routed", routed);
    // envelope_signed: flags, then header, parent, metadata, content, buffers.
    Frames dicts_and_buffers(frames.begin() + 2, frames.end());
    seed("envelope_signed", name, dicts_and_buffers, {0});
    seed("envelope_signed", name + "_replayed_routed", dicts_and_buffers, {6});
    Frames digested = with_digests.serialize(m);
    seed("envelope_signed", name + "_digests", Frames(digested.begin() + 2, digested.end()), {1});
  }
  // Compressed frames (cannery.codings in the signed metadata): the fuzzed
  // bytes reach each decompressor.
  for (Codec codec : wire_codecs()) {
    Message m = message(
        proto::ApplyRequest{.task = 3, .shared_memory = std::nullopt, .keep_as = std::nullopt},
        pack_apply_message("sum", ramp(4096)));
    m.compressor =
        std::make_shared<FrameCompressor>(LinkCompression{.codec = codec, .min_bytes = 256});
    const Frames frames = sender().serialize(m);
    seed("envelope_signed", "compressed_" + std::string(to_string(codec)),
         Frames(frames.begin() + 2, frames.end()), {0});
  }
}

// --- Engine requests: type, content, buffers ---------------------------------

// A seed of engine_request or controller_messages: the type, the content as
// plain msgpack, the buffers.
Frames request(std::string_view type, const Object::Dict& content, const Frames& buffers = {}) {
  Frames out{Buffer::copy_of(type), pack_plain(Object(content))};
  out.insert(out.end(), buffers.begin(), buffers.end());
  return out;
}

template <proto::MessageType T>
Frames request(const T& content, const Frames& buffers = {}) {
  return request(T::type, proto::encode(content), buffers);
}

// Leaves the frame of `frames` that holds the bytes engine_request keeps in
// its shared memory segment (shared_segment.hpp) to that segment: an empty
// placeholder in its place, and the descriptor that names it (the segment by
// the marker, which the harness replaces with the real name). The placement
// is the one SharedSegment::store made for the same frames here.
proto::SharedMemoryDescriptor in_fuzz_segment(Frames& frames) {
  static const SharedSegment segment =
      SharedSegment::store(fuzz::segment_frames(), fuzz::segment_min_frame).value();
  proto::SegmentDescriptor descriptor = segment.descriptor();
  const proto::FramePlacement stored = descriptor.frames.at(0);
  const Buffer bytes = fuzz::segment_frames().at(stored.index);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (frames[i] == bytes) {
      frames[i] = Buffer();
      descriptor.segment = std::string(fuzz::segment_marker);
      descriptor.frames = {{.index = i, .offset = stored.offset, .length = stored.length}};
      return {descriptor};
    }
  }
  throw error(errc::invalid_argument, "no frame holds the fuzz segment's bytes");
}

void engine_seeds() {
  const std::string t = "engine_request";
  auto apply = [](std::uint64_t task) {
    return proto::ApplyRequest{
        .task = task, .shared_memory = std::nullopt, .keep_as = std::nullopt};
  };
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(3, 3);
  seed(t, "echo", request(apply(1), pack_apply_message("echo", 5)));
  seed(t, "add", request(apply(2), pack_apply_message("add", 1.0, 2.0)));
  seed(t, "square", request(apply(3), pack_apply_message("square", 3.0)));
  seed(t, "small_task",
       request(apply(4),
               pack_apply_message("small_task", std::int64_t{1}, std::string("n"), 2.0, ramp(16))));
  seed(t, "sum_frame", request(apply(5), pack_apply_message("sum", ramp(130))));
  seed(t, "trace_scaled", request(apply(6), pack_apply_message("trace_scaled", m, 2.0)));
  seed(t, "describe",
       request(apply(7), pack_apply_message("describe", m, ramp(3), 1.5, std::int64_t{3},
                                            std::string("label"))));
  seed(t, "nbytes",
       request(apply(8), pack_apply_message("nbytes", std::vector<std::int32_t>{1, 2})));
  seed(t, "nbytes_all",
       request(apply(9),
               pack_apply_message("nbytes_all",
                                  std::map<std::string, std::vector<double>>{{"a", ramp(2)}})));
  seed(t, "sum_all",
       request(apply(10), pack_apply_message("sum_all", std::map<std::string, std::vector<double>>{
                                                            {"a", ramp(2)}, {"b", ramp(130)}})));
  seed(t, "pid", request(apply(11), pack_apply_message("pid")));
  seed(t, "fail", request(apply(12), pack_apply_message("fail", std::string("boom"))));
  seed(t, "unknown_function", request(apply(13), pack_apply_message("nope", 1)));
  seed(t, "kwargs", request(apply(14), pack_apply_message("add", 1.0, kw("b", 2.0))));
  const proto::MapRequest map{.task = 20, .count = 3, .shared_memory = std::nullopt};
  seed(t, "map_square", request(map, pack_apply_message("square", ramp(3))));
  seed(t, "map_add", request(map, pack_apply_message("add", ramp(3), ramp(3, 7))));
  seed(t, "map_echo_list",
       request(map, pack_apply_message("echo", std::vector<std::string>{"a", "b", "c"})));
  seed(t, "push",
       request(proto::PushRequest{.task = 30, .names = {"a", "b"}},
               concat({canned(1), canned(ramp(130))})));
  seed(t, "pull_missing", request(proto::PullRequest{.task = 31, .name = "a"}));
  seed(t, "put", request(proto::PutRequest{.ref = 7, .shared_memory = std::nullopt}, canned(m)));
  seed(t, "release", request(proto::ReleaseRequest{.refs = {7, 8}}));
  // Contents that do not fit their type: answered when the task can be read.
  Object::Dict no_count = proto::encode(map);
  no_count.erase("count");
  seed(t, "map_without_count",
       request(proto::MapRequest::type, no_count, pack_apply_message("square", ramp(3))));
  seed(t, "apply_task_string",
       request(proto::ApplyRequest::type, {{"task", Object("one")}}, pack_apply_message("pid")));

  // Frames in the harness's shared memory segment.
  {
    Frames frames = pack_apply_message("sum", ramp(130));
    proto::ApplyRequest shared = apply(50);
    shared.shared_memory = in_fuzz_segment(frames);
    seed(t, "apply_shared", request(shared, frames));
  }
  {
    Frames frames = pack_apply_message("square", ramp(130));
    proto::MapRequest shared{.task = 51, .count = 130, .shared_memory = std::nullopt};
    shared.shared_memory = in_fuzz_segment(frames);
    seed(t, "map_shared", request(shared, frames));
  }
  {
    Frames frames = canned(ramp(130));
    proto::PutRequest shared{.ref = 9, .shared_memory = std::nullopt};
    shared.shared_memory = in_fuzz_segment(frames);
    seed(t, "put_shared", request(shared, frames));
  }

  // A batch: put, an apply of the cached object, push, pull, release, map.
  BatchBuilder batch;
  batch.add(proto::PutRequest{.ref = 7, .shared_memory = std::nullopt}, canned(m));
  batch.add(apply(40), pack_apply_message("trace_scaled", proto::RefArgument{7}, 3.0));
  batch.add(proto::PushRequest{.task = 41, .names = {"x"}}, canned(std::string("pushed")));
  batch.add(proto::PullRequest{.task = 42, .name = "x"}, {});
  batch.add(proto::ReleaseRequest{.refs = {7}}, {});
  batch.add(proto::MapRequest{.task = 43, .count = 2, .shared_memory = std::nullopt},
            pack_apply_message("square", ramp(2)));
  Frames batch_buffers = batch.take_buffers();
  seed(t, "batch",
       request(proto::batch_request, batch.take_content(proto::batch_requests_field),
               batch_buffers));
  // A batch through shared memory: a put whose frame is in the segment, then
  // an apply of the cached object; a part that is no work message between.
  {
    Frames frames = canned(ramp(130));
    proto::PutRequest put{.ref = 9, .shared_memory = std::nullopt};
    put.shared_memory = in_fuzz_segment(frames);
    batch.add(put, frames);
    batch.add(proto::Heartbeat{}, {});
    batch.add(apply(44), pack_apply_message("sum", proto::RefArgument{9}));
    batch_buffers = batch.take_buffers();
    seed(t, "batch_shared",
         request(proto::batch_request, batch.take_content(proto::batch_requests_field),
                 batch_buffers));
  }
  // What else the engine's loop reads on its work socket.
  seed(t, "registration_reply",
       request(proto::RegistrationReply{.engine_id = 3,
                                        .heartbeat_ms = 1000,
                                        .allowed_misses = 5,
                                        .heartbeat_endpoint = "tcp://0.0.0.0:5556",
                                        .protocol = proto::to_string(proto::version),
                                        .capabilities = batches(),
                                        .compression = std::nullopt}));
}

// --- Controller: type, content (task ids as the marker), buffers -------------

// The uint64 whose 8 bytes spell TASK_ID! (msgpack packs it as 0xcf and those
// bytes): controller_messages replaces it with the id of the task in flight.
constexpr std::uint64_t task_marker = 0x5441534b5f494421;

void controller_seeds() {
  const std::string t = "controller_messages";
  auto registration = [](std::string uuid, bool with_batches, std::uint64_t attempt) {
    return proto::RegistrationRequest{
        .uuid = std::move(uuid),
        .pid = 4242,
        .hostname = "fuzz-host",
        .functions = {"echo", "add"},
        .protocol = proto::to_string(proto::version),
        .capabilities = with_batches ? batches() : std::vector<std::string>{},
        .registrations = attempt,
        .shared_memory = std::nullopt};
  };
  seed(t, "registration_same", request(registration("fuzz-engine-uuid", true, 0)));
  seed(t, "registration_new_uuid", request(registration("another-uuid", false, 0)));
  seed(t, "registration_again", request(registration("fuzz-engine-uuid", true, 1)));
  proto::RegistrationRequest probe = registration("fuzz-engine-uuid", true, 0);
  probe.capabilities.emplace_back(proto::capability::shared_memory);
  probe.shared_memory = proto::ProbeDescription{.segment = "/cannery-x-1-probe", .token = "abc"};
  seed(t, "registration_probe", request(probe));
  // Refused (registration_refused): another major version, or none.
  proto::RegistrationRequest other_major = registration("fuzz-engine-uuid", true, 0);
  other_major.protocol = "2.0";
  seed(t, "registration_other_major", request(other_major));
  Object::Dict no_version = proto::encode(registration("fuzz-engine-uuid", true, 0));
  no_version.erase("protocol");
  seed(t, "registration_no_protocol", request(proto::RegistrationRequest::type, no_version));

  auto reply = [](proto::Status status) {
    proto::ApplyReply r;
    r.task = task_marker;
    r.engine_id = 0;
    r.status = status;
    return r;
  };
  seed(t, "reply_ok", request(reply(proto::Status::ok), canned(42)));
  seed(t, "reply_ok_frame", request(reply(proto::Status::ok), canned(ramp(130))));
  proto::ApplyReply error = reply(proto::Status::error);
  error.function = "f";
  error.ename = "cannery.type_mismatch";
  error.evalue = "argument 0 of 'f': no";
  seed(t, "reply_error", request(error));
  Object::Dict other_status = proto::encode(reply(proto::Status::ok));
  other_status.insert_or_assign("status", Object("maybe"));
  seed(t, "reply_other_status", request(proto::ApplyReply::type, other_status));
  proto::ApplyReply unknown_task = reply(proto::Status::ok);
  unknown_task.task = 123456;
  seed(t, "reply_unknown_task", request(unknown_task, canned(nullptr)));

  BatchBuilder batch;
  batch.add(reply(proto::Status::ok), canned(std::string("first")));
  batch.add(error, {});
  batch.add(reply(proto::Status::ok), canned(ramp(3)));
  Frames batch_buffers = batch.take_buffers();
  seed(t, "batch_reply",
       request(proto::batch_reply, batch.take_content(proto::batch_replies_field), batch_buffers));
  // A part that does not decode as an apply_reply (a request's), then one
  // that does.
  batch.add(proto::ApplyRequest{.task = 1, .shared_memory = std::nullopt, .keep_as = std::nullopt},
            {});
  batch.add(reply(proto::Status::ok), canned(1));
  batch_buffers = batch.take_buffers();
  seed(t, "batch_reply_bad_part",
       request(proto::batch_reply, batch.take_content(proto::batch_replies_field), batch_buffers));
  seed(t, "heartbeat", request(proto::Heartbeat{}));
  seed(t, "unexpected_type",
       request(
           proto::ApplyRequest{.task = 1, .shared_memory = std::nullopt, .keep_as = std::nullopt}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_corpus <corpus folder>\n";
    return 2;
  }
  root = argv[1];
  try {
    canning_seeds();
    envelope_seeds();
    engine_seeds();
    controller_seeds();
  } catch (const std::exception& e) {
    std::cerr << "make_corpus: " << e.what() << "\n";
    return 1;
  }
  std::cout << "make_corpus: " << written << " seeds, " << total_bytes << " bytes, in " << root
            << "\n";
  return 0;
}
