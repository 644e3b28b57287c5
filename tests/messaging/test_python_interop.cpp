// Interoperability with a real Python peer: jupyter_client's Session (msgpack
// packer, same key) reads and verifies what cannery's Session sends, decodes
// the canned buffers with nothing but the Python decoder printed in
// docs/wire-format.md, and sends messages that cannery's Session verifies and
// reads (and refuses when signed with another key).
//
// Uses Debian's /usr/bin/python3 with python3-jupyter-client, python3-msgpack,
// python3-numpy and python3-zmq, run in isolated mode (-I, no .pyc: -B) under
// `timeout`.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <cannery/canning.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "socket_pair.hpp"
#include "source_examples.hpp"
#include "test_support.hpp"

extern char** environ;

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* python = "/usr/bin/python3";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The decoder of docs/wire-format.md: the ```python block of its section
// "A complete decoder in Python".
std::string doc_decoder() {
  const std::vector<std::string> blocks = cannery::test::markdown_blocks(
      "docs/wire-format.md", "python", "## A complete decoder in Python");
  REQUIRE(!blocks.empty());
  return blocks.front();
}

// A Python script run as `timeout -k 5 60 /usr/bin/python3 -I -B script args...`
// in its own process group, stdout and stderr to files. The destructor kills
// the whole group if it is still running (a failed REQUIRE must not leave a
// Python process behind).
class PythonChild {
 public:
  PythonChild(const fs::path& dir, const std::string& script, const std::vector<std::string>& args)
      : out_(dir / "stdout.txt"), err_(dir / "stderr.txt") {
    const fs::path script_path = dir / "peer.py";
    std::ofstream(script_path) << script;
    std::vector<std::string> argv_text{"/usr/bin/timeout",  "-k", "5", "60", python, "-I", "-B",
                                       script_path.string()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text)
      argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);  // its own group, killed as one
    const int rc = posix_spawn(&pid_, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
  }
  ~PythonChild() {
    if (!status_) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  PythonChild(const PythonChild&) = delete;
  PythonChild& operator=(const PythonChild&) = delete;

  bool running() {
    if (status_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) status_ = status;
    return !status_;
  }
  // The exit code, or -1 when it did not exit normally within `limit`.
  int wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    if (running()) return -1;
    return WIFEXITED(*status_) ? WEXITSTATUS(*status_) : -1;
  }
  std::string out() const { return read_text(out_); }
  std::string err() const { return read_text(err_); }
  // stdout as "key value" lines.
  std::map<std::string, std::string> lines() const {
    std::map<std::string, std::string> result;
    std::istringstream text(out());
    for (std::string line; std::getline(text, line);) {
      const auto space = line.find(' ');
      result[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
    }
    return result;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  fs::path out_;
  fs::path err_;
};

// The next valid message, waiting at most `limit` and no longer than the
// Python peer lives.
std::optional<cannery::Message> receive_from(cannery::Session& session, zmq::socket_ref socket,
                                             PythonChild& child, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool alive = child.running();
    if (auto m = session.receive(socket, alive ? 100ms : 500ms)) return m;
    if (!alive) break;
  }
  return std::nullopt;
}

struct Router {
  explicit Router(zmq::context_t& context) : socket(context, zmq::socket_type::router) {
    socket.set(zmq::sockopt::linger, 0);
    cannery::make_router_mandatory(socket);
    cannery::limit_frame_size(socket, std::int64_t{64} << 20);
    socket.bind("tcp://127.0.0.1:*");
    endpoint = socket.get(zmq::sockopt::last_endpoint);
  }
  zmq::socket_t socket;
  std::string endpoint;
};

cannery::SessionOptions session_options(std::string key, std::vector<std::string>* log) {
  cannery::SessionOptions o;
  o.key = std::move(key);
  o.log_sink = [log](std::string_view line) { log->emplace_back(line); };
  return o;
}

// Shared by both scripts: jupyter_client's Session with a msgpack packer.
constexpr const char* python_prelude = R"PY(
import hashlib, json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import msgpack
import numpy as np
import zmq
from jupyter_client.session import Session

endpoint, key = sys.argv[1], sys.argv[2].encode()

def make_session(key, name):
    return Session(key=key, packer="msgpack.packb", unpacker="msgpack.unpackb",
                   session=name + "-session", username=name)

def out(name, value):
    print(name + " " + json.dumps(value, sort_keys=True), flush=True)

def dealer(identity):
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.IDENTITY, identity)
    socket.setsockopt(zmq.LINGER, 10000)
    socket.connect(endpoint)
    return context, socket

def receive(session, socket):
    if not socket.poll(30000):
        sys.exit("nothing from the C++ side within 30 s")
    idents, msg_list = session.feed_identities(socket.recv_multipart())
    return idents, session.deserialize(msg_list)  # verifies the signature
)PY";

// C++ -> Python: prints the message as jupyter_client reads it and the canned
// buffers as the documented decoder reads them.
constexpr const char* reader_script = R"PY(
from decoder import decode_message

session = make_session(key, "py-reader")
context, socket = dealer(b"py-reader")
# The C++ session requires buffer digests (BLAKE2b-256) in the metadata.
ping = b"ping"
hello = session.send(socket, "kernel_info_request", content={"hello": 1}, buffers=[ping],
                     metadata={"cannery.digests": [hashlib.blake2b(ping, digest_size=32).hexdigest()]})
idents, msg = receive(session, socket)

h = msg["header"]
out("idents", [i.decode() for i in idents])
out("header", {k: h[k] for k in ("msg_type", "msg_id", "session", "username", "version")})
out("date", [type(h["date"]).__name__, h["date"].utcoffset().total_seconds(),
             h["date"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")])
p = msg["parent_header"]
out("parent", [p["msg_id"] == hello["header"]["msg_id"], p["msg_type"], p["session"],
               p["username"], p["version"]])
metadata = dict(msg["metadata"])
digests = metadata.pop("cannery.digests")
out("metadata", metadata)
out("digests", [hashlib.blake2b(bytes(b), digest_size=32).hexdigest() == d
                for b, d in zip(msg["buffers"], digests)])
out("content", msg["content"])
out("buffers", [len(b) for b in msg["buffers"]])

def show(v):
    if isinstance(v, np.ndarray):
        d = {"dtype": v.dtype.str, "shape": list(v.shape), "sum": float(v.sum())}
        if v.size <= 16:
            d["values"] = v.tolist()
        else:
            d["first"], d["last"] = float(v.ravel()[0]), float(v.ravel()[-1])
        return d
    if isinstance(v, dict):
        return {k: show(x) for k, x in v.items()}
    if isinstance(v, list):
        return [show(x) for x in v]
    return v

for i, value in enumerate(decode_message(msg["buffers"])):
    out("object%d" % i, show(value))
socket.close()
context.term()
)PY";

// Python -> C++: an execute_request with canned buffers encoded by hand, one
// message signed with the wrong key, then (after C++ says "go") one more.
constexpr const char* sender_script = R"PY(
session = make_session(key, "py-sender")
wrong = make_session(b"not-" + key, "py-sender")
context, socket = dealer(b"py-sender")

def canned(root, *frames):
    return [msgpack.packb([1, root, len(frames)]), *frames]

ramp = np.arange(4000, dtype="<f8") * 0.25
small = np.arange(6, dtype="<i4").reshape(2, 3)
fortran = np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4))
weights = np.full(3000, 0.5, dtype="<f4")
buffers = (canned(["ndarray", ["<f8", [4000], [8], 0, 0]], ramp)
           + canned(["ndarray", ["<i4", [2, 3], [12, 4], small.tobytes(), 0]])
           + canned(["ndarray", ["<f8", [3, 4], [8, 24], 0, 0]], fortran.tobytes(order="F"))
           + canned("from python")
           + canned(-(2 ** 40))
           + canned({"w": ["ndarray", ["<f4", [3000], [4], 0, 0]], "k": 7}, weights))

parent = session.msg_header("kernel_info_request")
content = {"code": "print('hi')", "silent": False, "store_history": True,
           "user_expressions": {}, "allow_stdin": False, "n": 3, "big": 2 ** 40,
           "negative": -5, "ratio": 0.5, "items": [1, "two", None, 3.5], "blob": b"\x00\x01\x02"}
sent = session.send(socket, "execute_request", content=content, parent=parent,
                    metadata={"trace": "abc"}, buffers=buffers)
out("parent_id", parent["msg_id"])
out("sent_id", sent["header"]["msg_id"])
out("sent_date", sent["header"]["date"].isoformat())

wrong.send(socket, "execute_request", content={"code": "import os; os.system('evil')"})

idents, go = receive(session, socket)
out("go", [go["msg_type"], go["content"], go["parent_header"]["msg_id"] == sent["header"]["msg_id"]])
second = session.send(socket, "execute_request", content={"code": "second"}, parent=go)
out("second_id", second["header"]["msg_id"])
out("go_id", go["header"]["msg_id"])
socket.close()
context.term()
)PY";

// Fails the test with everything the Python peer printed.
[[noreturn]] void fail_with_output(PythonChild& child, const std::string& what,
                                   const std::vector<std::string>& refusals) {
  child.wait(5s);
  std::string log;
  for (const auto& line : refusals)
    log += line + "\n";
  FAIL(what << "\nrefusals:\n"
            << log << "python stdout:\n"
            << child.out() << "\npython stderr:\n"
            << child.err());
  throw std::logic_error("unreachable");
}

std::string unquote(const std::string& json_string) {
  REQUIRE(json_string.size() >= 2);
  return json_string.substr(1, json_string.size() - 2);
}

}  // namespace

TEST_CASE(
    "jupyter_client verifies and reads cannery's messages, and the doc's decoder reads "
    "canned buffers",
    "[messaging][python]") {
  cannery::test::TempDir dir;
  std::ofstream(dir.path() / "decoder.py") << doc_decoder();
  zmq::context_t context;
  Router router(context);
  const std::string key = cannery::new_session_id();  // random per run
  std::vector<std::string> log;
  cannery::SessionOptions options = session_options(key, &log);
  options.username = "cxx-user";
  options.buffer_digests = true;  // Python checks them with hashlib's blake2b
  cannery::Session session(std::move(options));

  PythonChild child(dir.path(), std::string(python_prelude) + reader_script,
                    {router.endpoint, key});
  auto hello = receive_from(session, router.socket, child, 60s);
  if (!hello) fail_with_output(child, "no kernel_info_request from Python", log);
  REQUIRE(hello->identities.size() == 1);
  CHECK(hello->identities[0].as_string_view() == "py-reader");
  CHECK(hello->header.msg_type == "kernel_info_request");
  CHECK(hello->header.session == "py-reader-session");
  REQUIRE(hello->buffers.size() == 1);
  CHECK(hello->buffers[0].as_string_view() == "ping");

  Eigen::MatrixXd matrix(3, 4);
  matrix << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;
  std::map<std::string, std::vector<double>> arrays{{"big", cannery::test::ramp(5000, 1.0)},
                                                    {"small", {1.5, 2.5, 3.5}}};
  cannery::Message reply =
      session.message("execute_result",
                      cannery::Object::Dict{{"status", "ok"},
                                            {"execution_count", 3},
                                            {"ratio", 0.25},
                                            {"negative", -42},
                                            {"big", std::uint64_t{1} << 63},
                                            {"flags", cannery::Object::List{true, false, nullptr}},
                                            {"nested", cannery::Object::Dict{{"name", "cannery"}}}},
                      &*hello);
  reply.metadata = cannery::Object::Dict{{"engine", "cxx"}, {"attempt", 1}};
  cannery::can(matrix).append_to(reply.buffers);
  cannery::can(cannery::test::ramp(100000)).append_to(reply.buffers);  // out of band, owned
  cannery::can(std::int64_t{-1234567890123}).append_to(reply.buffers);
  cannery::can(std::string("h\xc3\xa9llo, w\xc3\xb6rld")).append_to(reply.buffers);
  cannery::can(std::move(arrays)).append_to(reply.buffers);
  REQUIRE(reply.identities.size() == 1);  // routed back to the DEALER that asked
  REQUIRE(reply.buffers.size() == 7);     // five headers, two out-of-band arrays
  const auto zero_copy_before = cannery::frame_stats().zero_copy_frames.load();
  session.send(router.socket, reply);
  CHECK(cannery::frame_stats().zero_copy_frames.load() - zero_copy_before >= 2);

  if (child.wait(90s) != 0) fail_with_output(child, "the Python peer failed", log);
  auto lines = child.lines();
  INFO("python stdout:\n" << child.out());
  CHECK(lines["idents"] == "[]");
  CHECK(lines["header"] == "{\"msg_id\": \"" + reply.header.msg_id +
                               "\", \"msg_type\": \"execute_result\", \"session\": \"" +
                               session.session_id() +
                               "\", \"username\": \"cxx-user\", \"version\": \"5.3\"}");
  // jupyter_client parsed our date into an aware UTC datetime.
  CHECK(lines["date"] == "[\"datetime\", 0.0, \"" + reply.header.date + "\"]");
  CHECK(lines["parent"] ==
        "[true, \"kernel_info_request\", \"py-reader-session\", \"py-reader\", \"5.3\"]");
  CHECK(lines["metadata"] == "{\"attempt\": 1, \"engine\": \"cxx\"}");
  CHECK(lines["digests"] == "[true, true, true, true, true, true, true]");
  CHECK(lines["content"] ==
        "{\"big\": 9223372036854775808, \"execution_count\": 3, \"flags\": [true, false, null], "
        "\"negative\": -42, \"nested\": {\"name\": \"cannery\"}, \"ratio\": 0.25, \"status\": "
        "\"ok\"}");
  std::string sizes = "[";
  for (const auto& b : reply.buffers)
    sizes += (sizes.size() > 1 ? ", " : "") + std::to_string(b.size());
  CHECK(lines["buffers"] == sizes + "]");
  CHECK(lines["object0"] ==
        "{\"dtype\": \"<f8\", \"shape\": [3, 4], \"sum\": 78.0, \"values\": [[1.0, 2.0, 3.0, "
        "4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]}");
  CHECK(lines["object1"] ==
        "{\"dtype\": \"<f8\", \"first\": 0.0, \"last\": 49999.5, \"shape\": [100000], \"sum\": "
        "2499975000.0}");
  CHECK(lines["object2"] == "-1234567890123");
  CHECK(lines["object3"] == "\"h\\u00e9llo, w\\u00f6rld\"");
  CHECK(lines["object4"] ==
        "{\"big\": {\"dtype\": \"<f8\", \"first\": 1.0, \"last\": 2500.5, \"shape\": [5000], "
        "\"sum\": 6253750.0}, \"small\": {\"dtype\": \"<f8\", \"shape\": [3], \"sum\": 7.5, "
        "\"values\": [1.5, 2.5, 3.5]}}");
  CHECK(lines.count("object5") == 0);
  CHECK(session.refusals().total() == 0);
}

TEST_CASE("cannery verifies and reads jupyter_client's messages and refuses a wrong key",
          "[messaging][python]") {
  cannery::test::TempDir dir;
  zmq::context_t context;
  Router router(context);
  const std::string key = cannery::new_session_id();
  std::vector<std::string> log;
  cannery::Session session(session_options(key, &log));

  PythonChild child(dir.path(), std::string(python_prelude) + sender_script,
                    {router.endpoint, key});
  auto request = receive_from(session, router.socket, child, 60s);
  if (!request) fail_with_output(child, "no execute_request from Python", log);
  REQUIRE(request->identities.size() == 1);
  CHECK(request->identities[0].as_string_view() == "py-sender");

  const cannery::MessageHeader& h = request->header;
  CHECK(h.msg_type == "execute_request");
  CHECK(h.session == "py-sender-session");
  CHECK(h.username == "py-sender");
  CHECK(h.version == "5.3");
  CHECK(h.msg_id.rfind("py-sender-session_", 0) == 0);
  const std::regex python_date(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|\+00:00))");
  CHECK(std::regex_match(h.date, python_date));
  REQUIRE(request->parent_header);
  CHECK(request->parent_header->msg_type == "kernel_info_request");
  CHECK(request->parent_header->session == "py-sender-session");
  CHECK(request->parent_header->version == "5.3");
  CHECK(std::regex_match(request->parent_header->date, python_date));
  CHECK(request->metadata.to_dict().size() == 1);
  CHECK(request->metadata.at("trace").to_string() == "abc");

  const cannery::Object& c = request->content;
  CHECK(c.to_dict().size() == 11);
  CHECK(c.at("code").to_string() == "print('hi')");
  CHECK_FALSE(c.at("silent").to_bool());
  CHECK(c.at("store_history").to_bool());
  CHECK(c.at("user_expressions").to_dict().empty());
  CHECK(c.at("n").to_int64() == 3);
  CHECK(c.at("big").to_int64() == std::int64_t{1} << 40);
  CHECK(c.at("negative").to_int64() == -5);
  CHECK(c.at("ratio").to_double() == 0.5);
  REQUIRE(c.at("items").to_list().size() == 4);
  CHECK(c.at("items").at(0).to_int64() == 1);
  CHECK(c.at("items").at(1).to_string() == "two");
  CHECK(c.at("items").at(2).is_null());
  CHECK(c.at("items").at(3).to_double() == 3.5);
  REQUIRE(c.at("blob").kind() == cannery::Object::Kind::bytes);
  CHECK(c.at("blob").to_bytes().as_string_view() == std::string_view("\x00\x01\x02", 3));

  // The buffers: six objects canned by hand in Python, read one at a time.
  REQUIRE(request->buffers.size() == 9);
  std::span<const cannery::Buffer> rest = request->buffers;
  auto [ramp, r1] = cannery::deserialize_object<std::vector<double>>(rest);
  REQUIRE(ramp.size() == 4000);
  CHECK(ramp[3999] == 999.75);
  CHECK(std::accumulate(ramp.begin(), ramp.end(), 0.0) == 1999500.0);
  auto [small, r2] = cannery::deserialize_object(r1);  // inlined, unpadded bin 8
  REQUIRE(small.kind() == cannery::Object::Kind::ndarray);
  CHECK(small.to_ndarray().shape() == cannery::NDArray::Shape{2, 3});
  Eigen::MatrixXi small_matrix = small.as<Eigen::MatrixXi>();
  Eigen::MatrixXi expected_small(2, 3);
  expected_small << 0, 1, 2, 3, 4, 5;
  CHECK(small_matrix == expected_small);
  auto [fortran, r3] = cannery::deserialize_object<Eigen::Map<const Eigen::MatrixXd>>(r2);
  REQUIRE(fortran.rows() == 3);
  REQUIRE(fortran.cols() == 4);
  CHECK(fortran(2, 1) == 9.0);
  CHECK(fortran(1, 3) == 7.0);
  CHECK(fortran.sum() == 66.0);
  auto [text, r4] = cannery::deserialize_object<std::string>(r3);
  CHECK(text == "from python");
  auto [integer, r5] = cannery::deserialize_object<std::int64_t>(r4);
  CHECK(integer == -(std::int64_t{1} << 40));
  auto [dict, r6] = cannery::deserialize_object(r5);
  CHECK(dict.at("k").to_int64() == 7);
  const auto weights = dict.at("w").as<std::vector<float>>();
  REQUIRE(weights.size() == 3000);
  CHECK(std::all_of(weights.begin(), weights.end(), [](float w) { return w == 0.5f; }));
  CHECK(r6.empty());

  // Signed with another key: refused, counted, logged, and nothing returned.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (session.refusals().count(cannery::errc::signature_mismatch) == 0 &&
         std::chrono::steady_clock::now() < deadline && child.running()) {
    auto m = session.receive(router.socket, 100ms);
    CHECK_FALSE(m);
  }
  CHECK_FALSE(session.receive(router.socket, 300ms));  // the peer now waits for "go"
  CHECK(session.refusals().count(cannery::errc::signature_mismatch) == 1);
  CHECK(session.refusals().total() == 1);
  CHECK(log.size() == 1);

  // A valid message after the refusal is served.
  cannery::Message go = session.message("go", cannery::Object::Dict{{"proceed", true}}, &*request);
  session.send(router.socket, go);
  auto second = receive_from(session, router.socket, child, 60s);
  if (!second) fail_with_output(child, "no second execute_request from Python", log);
  CHECK(second->identities[0].as_string_view() == "py-sender");
  CHECK(second->content.at("code").to_string() == "second");
  REQUIRE(second->parent_header);
  CHECK(second->parent_header->msg_id == go.header.msg_id);
  CHECK(second->parent_header->msg_type == "go");
  CHECK(second->parent_header->session == session.session_id());
  CHECK(session.refusals().total() == 1);

  if (child.wait(90s) != 0) fail_with_output(child, "the Python peer failed", log);
  auto lines = child.lines();
  INFO("python stdout:\n" << child.out());
  CHECK(unquote(lines["parent_id"]) == request->parent_header->msg_id);
  CHECK(unquote(lines["sent_id"]) == h.msg_id);
  CHECK(unquote(lines["sent_date"]) == h.date);
  CHECK(lines["go"] == "[\"go\", {\"proceed\": true}, true]");
  CHECK(unquote(lines["go_id"]) == go.header.msg_id);
  CHECK(unquote(lines["second_id"]) == second->header.msg_id);
}
