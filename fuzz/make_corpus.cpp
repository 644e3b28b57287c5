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
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cannery/canning.hpp"
#include "cannery/messaging.hpp"
#include "cannery/messaging/protocol.hpp"
#include "envelope_support.hpp"
#include "fuzz_types.hpp"

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

Message message(std::string_view type, Object::Dict content, Frames buffers = {}) {
  Message m = sender().message(type, Object(std::move(content)));
  m.buffers = std::move(buffers);
  return m;
}

void envelope_seeds() {
  SessionOptions digesting = fuzz::session_options();
  digesting.buffer_digests = true;
  Session with_digests(digesting);

  std::vector<std::pair<std::string, Message>> messages;
  messages.emplace_back("apply_request", message(proto::apply_request, {{"task", Object(1)}},
                                                 pack_apply_message("add", 1.0, 2.0)));
  messages.emplace_back("apply_request_frame", message(proto::apply_request, {{"task", Object(2)}},
                                                       pack_apply_message("sum", ramp(130))));
  messages.emplace_back(
      "registration",
      message(proto::registration_request, {{"uuid", Object("u")},
                                            {"pid", Object(12)},
                                            {"functions", Object(Object::List{Object("echo")})},
                                            {"batches", Object(true)}}));
  messages.emplace_back("empty", message(proto::heartbeat, {}));
  Message with_parent =
      message(proto::apply_reply, {{"task", Object(1)}, {"status", Object("ok")}}, canned(3.0));
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
}

// --- Engine requests: type, content, buffers ---------------------------------

Frames request(std::string_view type, const Object::Dict& content, const Frames& buffers = {}) {
  Frames out{Buffer::copy_of(type), pack_plain(Object(content))};
  out.insert(out.end(), buffers.begin(), buffers.end());
  return out;
}

Object::Dict task(std::int64_t id) {
  return {{std::string(proto::task), Object(id)}};
}

void engine_seeds() {
  const std::string t = "engine_request";
  Eigen::MatrixXd m = Eigen::MatrixXd::Identity(3, 3);
  seed(t, "echo", request(proto::apply_request, task(1), pack_apply_message("echo", 5)));
  seed(t, "add", request(proto::apply_request, task(2), pack_apply_message("add", 1.0, 2.0)));
  seed(t, "square", request(proto::apply_request, task(3), pack_apply_message("square", 3.0)));
  seed(t, "small_task",
       request(proto::apply_request, task(4),
               pack_apply_message("small_task", std::int64_t{1}, std::string("n"), 2.0, ramp(16))));
  seed(t, "sum_frame",
       request(proto::apply_request, task(5), pack_apply_message("sum", ramp(130))));
  seed(t, "trace_scaled",
       request(proto::apply_request, task(6), pack_apply_message("trace_scaled", m, 2.0)));
  seed(t, "describe",
       request(
           proto::apply_request, task(7),
           pack_apply_message("describe", m, ramp(3), 1.5, std::int64_t{3}, std::string("label"))));
  seed(t, "nbytes",
       request(proto::apply_request, task(8),
               pack_apply_message("nbytes", std::vector<std::int32_t>{1, 2})));
  seed(t, "nbytes_all",
       request(proto::apply_request, task(9),
               pack_apply_message("nbytes_all",
                                  std::map<std::string, std::vector<double>>{{"a", ramp(2)}})));
  seed(t, "sum_all",
       request(proto::apply_request, task(10),
               pack_apply_message("sum_all", std::map<std::string, std::vector<double>>{
                                                 {"a", ramp(2)}, {"b", ramp(130)}})));
  seed(t, "pid", request(proto::apply_request, task(11), pack_apply_message("pid")));
  seed(t, "fail",
       request(proto::apply_request, task(12), pack_apply_message("fail", std::string("boom"))));
  seed(t, "unknown_function",
       request(proto::apply_request, task(13), pack_apply_message("nope", 1)));
  seed(t, "kwargs",
       request(proto::apply_request, task(14), pack_apply_message("add", 1.0, kw("b", 2.0))));
  Object::Dict map_content = task(20);
  map_content.emplace(std::string(proto::count), Object(3));
  seed(t, "map_square",
       request(proto::map_request, map_content, pack_apply_message("square", ramp(3))));
  seed(t, "map_add",
       request(proto::map_request, map_content, pack_apply_message("add", ramp(3), ramp(3, 7))));
  seed(t, "map_echo_list",
       request(proto::map_request, map_content,
               pack_apply_message("echo", std::vector<std::string>{"a", "b", "c"})));
  Object::Dict push = task(30);
  push.emplace(std::string(proto::names), Object(Object::List{Object("a"), Object("b")}));
  seed(t, "push", request(proto::push_request, push, concat({canned(1), canned(ramp(130))})));
  Object::Dict pull = task(31);
  pull.emplace(std::string(proto::name), Object("a"));
  seed(t, "pull_missing", request(proto::pull_request, pull));
  seed(t, "put", request(proto::put_request, {{std::string(proto::ref), Object(7)}}, canned(m)));
  seed(t, "release",
       request(proto::release_request,
               {{std::string(proto::refs), Object(Object::List{Object(7), Object(8)})}}));

  // A batch: put, an apply of the cached object, push, pull, release, map.
  BatchBuilder batch;
  batch.add({{std::string(proto::type), Object(std::string(proto::put_request))},
             {std::string(proto::ref), Object(7)}},
            canned(m));
  Object::Dict apply_ref = task(40);
  apply_ref.emplace(std::string(proto::type), Object(std::string(proto::apply_request)));
  batch.add(apply_ref, pack_apply_message("trace_scaled", proto::RefArgument{7}, 3.0));
  Object::Dict push_part = task(41);
  push_part.emplace(std::string(proto::type), Object(std::string(proto::push_request)));
  push_part.emplace(std::string(proto::names), Object(Object::List{Object("x")}));
  batch.add(push_part, canned(std::string("pushed")));
  Object::Dict pull_part = task(42);
  pull_part.emplace(std::string(proto::type), Object(std::string(proto::pull_request)));
  pull_part.emplace(std::string(proto::name), Object("x"));
  batch.add(pull_part, {});
  batch.add({{std::string(proto::type), Object(std::string(proto::release_request))},
             {std::string(proto::refs), Object(Object::List{Object(7)})}},
            {});
  Object::Dict map_part = task(43);
  map_part.emplace(std::string(proto::type), Object(std::string(proto::map_request)));
  map_part.emplace(std::string(proto::count), Object(2));
  batch.add(map_part, pack_apply_message("square", ramp(2)));
  const Frames batch_buffers = batch.take_buffers();
  seed(t, "batch",
       request(proto::batch_request, batch.take_content(proto::requests), batch_buffers));
}

// --- Controller: type, content (task ids as the marker), buffers -------------

// The msgpack uint64 whose 8 bytes spell TASK_ID!: controller_messages
// replaces it with the id of the task in flight.
Object task_marker() {
  return Object(std::uint64_t{0x5441534b5f494421});
}

void controller_seeds() {
  const std::string t = "controller_messages";
  auto registration = [](std::string uuid, bool batches, std::int64_t attempt) {
    return Object::Dict{{"uuid", Object(std::move(uuid))},
                        {"pid", Object(4242)},
                        {"hostname", Object("fuzz-host")},
                        {"functions", Object(Object::List{Object("echo"), Object("add")})},
                        {"batches", Object(batches)},
                        {"registrations", Object(attempt)}};
  };
  seed(t, "registration_same",
       request(proto::registration_request, registration("fuzz-engine-uuid", true, 0)));
  seed(t, "registration_new_uuid",
       request(proto::registration_request, registration("another-uuid", false, 0)));
  seed(t, "registration_again",
       request(proto::registration_request, registration("fuzz-engine-uuid", true, 1)));
  Object::Dict probe = registration("fuzz-engine-uuid", true, 0);
  probe.emplace("shared_memory", Object(Object::Dict{{"segment", Object("/cannery-x-1-probe")},
                                                     {"token", Object("abc")}}));
  seed(t, "registration_probe", request(proto::registration_request, probe));

  auto reply = [](std::string status) {
    return Object::Dict{
        {"task", task_marker()}, {"status", Object(std::move(status))}, {"engine_id", Object(0)}};
  };
  seed(t, "reply_ok", request(proto::apply_reply, reply("ok"), canned(42)));
  seed(t, "reply_ok_frame", request(proto::apply_reply, reply("ok"), canned(ramp(130))));
  Object::Dict error = reply("error");
  error.emplace("function", Object("f"));
  error.emplace("ename", Object("cannery.type_mismatch"));
  error.emplace("evalue", Object("argument 0 of 'f': no"));
  seed(t, "reply_error", request(proto::apply_reply, error));
  seed(t, "reply_other_status", request(proto::apply_reply, reply("maybe")));
  seed(t, "reply_unknown_task",
       request(proto::apply_reply, {{"task", Object(123456)}, {"status", Object("ok")}},
               canned(nullptr)));

  BatchBuilder batch;
  batch.add(reply("ok"), canned(std::string("first")));
  batch.add(error, {});
  batch.add(reply("ok"), canned(ramp(3)));
  const Frames batch_buffers = batch.take_buffers();
  seed(t, "batch_reply",
       request(proto::batch_reply, batch.take_content(proto::replies), batch_buffers));
  seed(t, "heartbeat", request(proto::heartbeat, {}));
  seed(t, "unexpected_type", request(proto::apply_request, {{"task", Object(1)}}));
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
