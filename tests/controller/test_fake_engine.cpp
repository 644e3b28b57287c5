// The scripted fake engine used by the controller tests (fake_engine.hpp),
// and a check that it speaks the protocol to a bare ROUTER.
#include "fake_engine.hpp"

#include <pthread.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <cannery/canning.hpp>
#include <cannery/messaging/heart.hpp>

#include "test_support.hpp"

namespace cannery::test {
namespace {

std::atomic<int> fake_pids{90000};

SessionOptions fake_session(const ConnectionInfo& info) {
  SessionOptions s;
  s.key = info.key;
  s.insecure = info.key.empty();
  s.username = "fake-engine";
  s.log_sink = [](std::string_view) {};  // the insecure warning is expected in tests
  return s;
}

// A chunk (list or 1-D array) as its elements.
std::vector<Object> elements(const Object& chunk) {
  if (chunk.kind() == Object::Kind::list) return chunk.to_list();
  std::vector<Object> out;
  const NDArray& a = chunk.to_ndarray();
  if (a.dtype().kind == 'f') {
    for (double v : chunk.as<std::vector<double>>())
      out.emplace_back(v);
  } else {
    for (std::int64_t v : chunk.as<std::vector<std::int64_t>>())
      out.emplace_back(v);
  }
  return out;
}

double number(const Object& o) {
  return o.kind() == Object::Kind::floating ? o.to_double() : static_cast<double>(o.to_int64());
}

}  // namespace

FakeEngine::FakeEngine(const ConnectionInfo& info, FakeEngineOptions options)
    : info_(info), options_(std::move(options)), session_(fake_session(info)) {
  register_type<protocol::RefArgument>();
  if (options_.uuid.empty()) options_.uuid = new_session_id();
  if (options_.pid == 0) options_.pid = fake_pids.fetch_add(1);
  thread_ = std::thread([this] { run(); });
  ::pthread_setname_np(thread_.native_handle(), "fake-engine");
}

FakeEngine::~FakeEngine() {
  stop_.store(true);
  thread_.join();
}

int FakeEngine::wait_registered(std::chrono::milliseconds timeout) {
  wait_until([&] { return engine_id_.load() >= 0; }, timeout);
  return engine_id_.load();
}

void FakeEngine::register_again(int pid) {
  reregister_pid_.store(pid);
}

std::size_t FakeEngine::held() const {
  std::lock_guard lock(mutex_);
  return held_count_;
}
std::size_t FakeEngine::max_held() const {
  std::lock_guard lock(mutex_);
  return max_held_;
}
std::size_t FakeEngine::count(std::string_view msg_type) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(msg_type);
  return it == counts_.end() ? 0 : it->second;
}
std::uint64_t FakeEngine::put_bytes() const {
  std::lock_guard lock(mutex_);
  return put_bytes_;
}
std::vector<std::uint64_t> FakeEngine::released_refs() const {
  std::lock_guard lock(mutex_);
  return released_refs_;
}
std::vector<std::int64_t> FakeEngine::map_counts() const {
  std::lock_guard lock(mutex_);
  return map_counts_;
}
std::vector<std::string> FakeEngine::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

void FakeEngine::send(zmq::socket_t& socket, const Message& m) {
  session_.send(socket, m);
}

void FakeEngine::send_registration(zmq::socket_t& socket) {
  Object::List functions;
  for (const auto& f : options_.functions)
    functions.emplace_back(f);
  Object::Dict content{
      {"uuid", Object(options_.uuid)},
      {"pid", Object(options_.pid)},
      {"hostname", Object(options_.hostname)},
      {"functions", Object(std::move(functions))},
      {"registrations", Object(static_cast<std::int64_t>(count(protocol::registration_reply)))}};
  send(socket, session_.message(protocol::registration_request, Object(std::move(content))));
}

std::optional<zmq::socket_t> FakeEngine::connect_heart(zmq::context_t& context) {
  heart_changed_ = false;
  if (heart_endpoint_.empty()) return std::nullopt;
  zmq::socket_t heart(context, zmq::socket_type::dealer);
  heart.set(zmq::sockopt::linger, 0);
  heart.set(zmq::sockopt::immediate, 1);
  heart.set(zmq::sockopt::routing_id, std::string(protocol::engine_routing_prefix) + options_.uuid);
  if (options_.curve_client) {
    make_curve_client(heart, *options_.curve_client, info_.curve_server_public_key);
  }
  heart.connect(heart_connect_endpoint(info_.endpoints.at("engines"), heart_endpoint_));
  return heart;
}

void FakeEngine::run() {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  // A DEALER with no connected peer blocks on send: give up instead.
  socket.set(zmq::sockopt::sndtimeo, 100);
  socket.set(zmq::sockopt::routing_id,
             std::string(protocol::engine_routing_prefix) + options_.uuid);
  if (options_.curve_client) {
    make_curve_client(socket, *options_.curve_client, info_.curve_server_public_key);
  }
  socket.connect(info_.endpoints.at("engines"));
  send_registration(socket);
  std::optional<zmq::socket_t> heart;
  auto next_heartbeat = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    if (auto m = session_.receive(socket, 2ms)) {
      handle(socket, *m);
      while (auto more = session_.receive(socket, 0ms))
        handle(socket, *more);
    }
    if (heart_changed_) heart = connect_heart(context);
    while (heart) {
      auto answer = session_.receive(*heart, 0ms);
      if (!answer) break;
      {
        std::lock_guard lock(mutex_);
        ++counts_[answer->header.msg_type];
      }
      if (answer->header.msg_type == protocol::unknown_engine) send_registration(socket);
    }
    const auto now = std::chrono::steady_clock::now();
    if (int pid = reregister_pid_.exchange(-1); pid >= 0) {
      if (pid != 0) options_.pid = pid;
      send_registration(socket);
    }
    if (silent_.load()) continue;
    if (heart && now >= next_heartbeat) {
      send_frames(*heart, session_.serialize(session_.message(protocol::heartbeat)), {},
                  zmq::send_flags::dontwait);
      next_heartbeat = now + heartbeat_;
    }
    while (!delayed_.empty() && delayed_.front().when <= now) {
      send(socket, delayed_.front().reply);
      delayed_.pop_front();
    }
    if (release_.exchange(false)) {
      for (const Message& m : held_)
        send(socket, m);
      held_.clear();
      std::lock_guard lock(mutex_);
      held_count_ = 0;
    }
  }
}

Message FakeEngine::reply_ok(const Message& request, const Object& value) {
  Object::Dict content{{"task", request.content.at("task")},
                       {"status", Object("ok")},
                       {"engine_id", Object(engine_id_.load())}};
  Message reply = session_.message(protocol::apply_reply, Object(std::move(content)), &request);
  reply.buffers = serialize_object(value);
  return reply;
}

Message FakeEngine::reply_error(const Message& request, const std::string& function,
                                const std::string& ename, const std::string& evalue) {
  Object::Dict content{{"task", request.content.at("task")},
                       {"status", Object("error")},
                       {"engine_id", Object(engine_id_.load())},
                       {"function", Object(function)},
                       {"ename", Object(ename)},
                       {"evalue", Object(evalue)}};
  return session_.message(protocol::apply_reply, Object(std::move(content)), &request);
}

std::vector<Object> FakeEngine::read_args(std::span<const Buffer> buffers, std::string& function) {
  ApplyMessage call(buffers);
  function = call.function();
  std::vector<Object> args;
  for (std::size_t i = 0; i < call.nargs(); ++i) {
    Object arg = call.next_arg<Object>();
    // A registered tag: a ref arrives as an extension value, without a throw.
    if (arg.kind() == Object::Kind::extension) {
      if (const auto* ref = std::any_cast<protocol::RefArgument>(&arg.to_extension().value)) {
        auto it = cache_.find(ref->id);
        if (it == cache_.end()) throw std::runtime_error("unknown ref " + std::to_string(ref->id));
        arg = deserialize_object(it->second).value;
      }
    }
    args.push_back(std::move(arg));
  }
  return args;
}

Object FakeEngine::call(const std::string& f, std::vector<Object> args,
                        std::optional<std::chrono::milliseconds>& delay, bool& hold) {
  if (f == "echo") return args.at(0);
  if (f == "add") {
    if (args.at(0).kind() == Object::Kind::integer && args.at(1).kind() == Object::Kind::integer)
      return Object(args[0].to_int64() + args[1].to_int64());
    return Object(number(args[0]) + number(args[1]));
  }
  if (f == "whoami") return Object(options_.uuid);
  if (f == "fail") throw std::runtime_error("boom");
  if (f == "sleep_ms" || f == "sleep_echo") {
    delay = std::chrono::milliseconds(static_cast<long>(number(args.at(0))));
    return args.at(0);
  }
  if (f == "hold") {
    hold = true;
    return Object(options_.uuid);
  }
  if (f == "nbytes") {
    const Object& x = args.at(0);
    return Object(static_cast<std::int64_t>(
        x.kind() == Object::Kind::bytes ? x.to_bytes().size() : x.to_ndarray().nbytes()));
  }
  if (f == "square") return Object(number(args.at(0)) * number(args.at(0)));
  throw error(errc::unknown_function, "no function '" + f + "'");
}

void FakeEngine::handle(zmq::socket_t& socket, Message& m) {
  const std::string& type = m.header.msg_type;
  {
    std::lock_guard lock(mutex_);
    ++counts_[type];
    if (type != protocol::heartbeat) log_.push_back(type);
  }
  if (type == protocol::registration_reply) {
    engine_id_.store(static_cast<int>(m.content.at("engine_id").to_int64()));
    heartbeat_ = std::chrono::milliseconds(m.content.at("heartbeat_ms").to_int64());
    const std::string endpoint = m.content.at("heartbeat_endpoint").to_string();
    heart_changed_ = endpoint != heart_endpoint_;
    heart_endpoint_ = endpoint;
    return;
  }
  if (type == protocol::unknown_engine) {
    send_registration(socket);
    return;
  }
  if (type == protocol::put_request) {
    std::uint64_t bytes = 0;
    for (const Buffer& b : m.buffers)
      bytes += b.size();
    cache_[static_cast<std::uint64_t>(m.content.at("ref").to_int64())] = m.buffers;
    std::lock_guard lock(mutex_);
    put_bytes_ += bytes;
    return;
  }
  if (type == protocol::release_request) {
    for (const Object& id : m.content.at("refs").to_list()) {
      cache_.erase(static_cast<std::uint64_t>(id.to_int64()));
      std::lock_guard lock(mutex_);
      released_refs_.push_back(static_cast<std::uint64_t>(id.to_int64()));
    }
    return;
  }
  if (type == protocol::push_request) {
    std::span<const Buffer> rest = m.buffers;
    for (const Object& name : m.content.at("names").to_list()) {
      auto [value, remaining] = deserialize_object(rest);
      namespace_[name.to_string()] = std::move(value);
      rest = remaining;
    }
    send(socket, reply_ok(m, Object()));
    return;
  }
  if (type == protocol::pull_request) {
    const std::string name = m.content.at("name").to_string();
    auto it = namespace_.find(name);
    send(socket, it == namespace_.end() ? reply_error(m, "pull", "KeyError", name)
                                        : reply_ok(m, it->second));
    return;
  }
  if (type != protocol::apply_request && type != protocol::map_request) return;

  std::string function;
  std::optional<std::chrono::milliseconds> delay;
  bool hold = false;
  Message reply;
  try {
    std::vector<Object> args = read_args(m.buffers, function);
    if (type == protocol::apply_request) {
      reply = reply_ok(m, call(function, std::move(args), delay, hold));
    } else {
      const std::int64_t count = m.content.at("count").to_int64();
      {
        std::lock_guard lock(mutex_);
        map_counts_.push_back(count);
      }
      std::vector<std::vector<Object>> columns;
      for (const Object& chunk : args)
        columns.push_back(elements(chunk));
      Object::List results;
      bool numbers = true;
      for (std::int64_t i = 0; i < count; ++i) {
        std::vector<Object> element_args;
        for (auto& column : columns)
          element_args.push_back(column.at(static_cast<std::size_t>(i)));
        std::optional<std::chrono::milliseconds> d;
        Object r = call(function, std::move(element_args), d, hold);
        if (d) delay = std::max(delay.value_or(0ms), *d);
        numbers = numbers && r.kind() == Object::Kind::floating;
        results.push_back(std::move(r));
      }
      if (numbers) {
        std::vector<double> values;
        for (const Object& r : results)
          values.push_back(r.to_double());
        reply = reply_ok(m, Object(NDArray::from_vector(std::move(values))));
      } else {
        reply = reply_ok(m, Object(std::move(results)));
      }
    }
  } catch (const error& e) {
    reply = reply_error(m, function, "cannery." + std::string(to_string(e.code())), e.message());
  } catch (const std::exception& e) {
    reply = reply_error(m, function, "std::runtime_error", e.what());
  }
  const int copies = options_.duplicate_replies ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    if (i > 0) {
      // A second, distinct message for the same task (an identical one would
      // be refused as a replay before reaching the task logic).
      Message again = session_.message(reply.header.msg_type, reply.content, &m);
      again.buffers = reply.buffers;
      reply = std::move(again);
    }
    if (hold) {
      held_.push_back(reply);
      std::lock_guard lock(mutex_);
      held_count_ = held_.size();
      max_held_ = std::max(max_held_, held_count_);
    } else if (delay) {
      delayed_.push_back({std::chrono::steady_clock::now() + *delay, reply});
      std::stable_sort(delayed_.begin(), delayed_.end(),
                       [](const Pending& a, const Pending& b) { return a.when < b.when; });
    } else if (!silent_.load()) {
      send(socket, reply);
    }
  }
}

}  // namespace cannery::test

using namespace cannery;
using namespace cannery::test;

TEST_CASE("fake engine registers with a bare ROUTER and answers apply_request",
          "[controller][fake]") {
  zmq::context_t context(1);
  zmq::socket_t router(context, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  zmq::socket_t heart(context, zmq::socket_type::router);
  heart.set(zmq::sockopt::linger, 0);
  heart.bind("tcp://127.0.0.1:*");
  ConnectionInfo info;
  info.key = generate_key();
  info.endpoints["engines"] = router.get(zmq::sockopt::last_endpoint);
  SessionOptions so;
  so.key = info.key;
  Session session(so);

  FakeEngine engine(info);
  auto registration = session.receive(router, 5000ms);
  REQUIRE(registration);
  CHECK(registration->header.msg_type == "registration_request");
  CHECK(registration->content.at("uuid").to_string() == engine.uuid());
  CHECK(registration->identities.front().as_string_view() == "engine-" + engine.uuid());
  Message reply = session.message(
      "registration_reply",
      Object::Dict{{"engine_id", Object(7)},
                   {"heartbeat_ms", Object(100)},
                   {"allowed_misses", Object(4)},
                   {"heartbeat_endpoint", Object(heart.get(zmq::sockopt::last_endpoint))}},
      &*registration);
  session.send(router, reply);
  REQUIRE(engine.wait_registered() == 7);
  auto beat = session.receive(heart, 5000ms);
  REQUIRE(beat);
  CHECK(beat->header.msg_type == "heartbeat");
  CHECK(beat->identities.front().as_string_view() == "engine-" + engine.uuid());

  Message request = session.message("apply_request", Object::Dict{{"task", Object(1)}});
  request.identities = registration->identities;
  request.buffers = pack_apply_message("add", 2, 3);
  session.send(router, request);
  for (int i = 0; i < 100; ++i) {
    auto m = session.receive(router, 5000ms);
    REQUIRE(m);
    if (m->header.msg_type != "apply_reply") continue;
    CHECK(m->content.at("status").to_string() == "ok");
    CHECK(deserialize_object<int>(m->buffers).value == 5);
    return;
  }
  FAIL("no apply_reply");
}
