// Core: receiving, the engine registry, liveness and declaring engines dead.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/errors.hpp"
#include "cannery/messaging/detail/hex.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/protocol.hpp"

#include "core.hpp"
#include "launch.hpp"

namespace cannery::detail {
namespace {

// At most this many messages per round, so commands and timers keep their turn.
constexpr int receive_batch = 512;

// What engines send on the work socket besides batch_replies.
using EngineMessages = protocol::MessageTable<protocol::RegistrationRequest, protocol::ApplyReply,
                                              protocol::FetchReport>;

// Only the protocol version of a registration_request, read before the rest:
// a peer of another major version may lay out the rest differently.
struct VersionOnly {
  std::optional<std::string> protocol;
  static constexpr auto fields() {
    return std::tuple{protocol::field("protocol", &VersionOnly::protocol)};
  }
};

// Who sent something we refuse, for the log.
std::string peer_name(const Buffer& routing_id) {
  return peer_label(std::span<const Buffer>(&routing_id, 1));
}

std::string ms_text(std::chrono::milliseconds ms) {
  return std::to_string(ms.count()) + " ms";
}

}  // namespace

Core::Engine* Core::engine_by_routing(const std::string& routing_id) {
  auto it = by_routing_.find(routing_id);
  return it == by_routing_.end() ? nullptr : &engines_.at(it->second);
}

bool Core::receive_available() {
  for (int i = 0; i < receive_batch; ++i) {
    std::optional<std::vector<Buffer>> frames;
    try {
      frames = receive_frames(router_, {}, zmq::recv_flags::dontwait);
    } catch (const error& e) {
      messages_refused_.fetch_add(1, std::memory_order_relaxed);
      refusals_.record(e, "unknown");
      continue;
    }
    if (!frames) return false;
    std::size_t bytes = 0;
    {
      const std::size_t arrived = buffer_bytes(*frames);
      Message message;
      try {
        message = session_.deserialize(std::move(*frames));  // left whole when refused
      } catch (const error& e) {
        messages_refused_.fetch_add(1, std::memory_order_relaxed);
        refusals_.record(e, frames->empty() ? "unknown" : peer_name(frames->front()));
        continue;
      }
      messages_received_.fetch_add(1, std::memory_order_relaxed);
      bytes_received_.fetch_add(arrived, std::memory_order_relaxed);
      bytes = buffer_bytes(message.buffers);
      on_message(message);
    }  // what the core does not keep is freed before the memory check
    receive_memory_.after_message(bytes, Clock::now());
  }
  return true;
}

void Core::on_message(Message& message) {
  if (message.identities.size() != 1) {
    messages_refused_.fetch_add(1, std::memory_order_relaxed);
    refusals_.record(error(errc::malformed_message,
                           "a message with " + std::to_string(message.identities.size()) +
                               " routing ids; engines connect directly with a DEALER"),
                     "unknown");
    return;
  }
  const std::string routing(message.identities.front().as_string_view());
  const std::string& type = message.header.msg_type;
  Engine* engine = engine_by_routing(routing);
  try {
    if (type == protocol::RegistrationRequest::type) {
      if (!check_version(message)) return;
    } else if (engine == nullptr) {
      // An engine we do not know (we restarted, or declared it dead): it
      // registers again when told.
      unknown_peer_messages_.fetch_add(1, std::memory_order_relaxed);
      send_to(message.identities.front(), protocol::UnknownEngine{});
      return;
    } else {
      engine->last_seen = Clock::now();
      if (type == protocol::batch_reply) return on_batch_reply(*engine, message);
    }
    const bool known = EngineMessages::dispatch(
        type, message.content,
        protocol::overloaded{
            [&](const protocol::RegistrationRequest& request) {
              on_registration(request, message);
            },
            [&](const protocol::ApplyReply& reply) { on_reply(*engine, reply, message.buffers); },
            [&](const protocol::FetchReport& report) { on_fetch_report(*engine, report); }});
    if (!known) {
      throw error(errc::malformed_message, "unexpected message type '" + type.substr(0, 64) + "'");
    }
  } catch (const error& e) {
    messages_refused_.fetch_add(1, std::memory_order_relaxed);
    refusals_.record(e, engine != nullptr ? "engine " + std::to_string(engine->info.id)
                                          : peer_name(message.identities.front()));
  }
}

bool Core::check_version(const Message& message) {
  const std::optional<std::string> announced =
      protocol::decode<VersionOnly>(message.content, protocol::RegistrationRequest::type).protocol;
  const std::optional<std::string> why =
      protocol::incompatibility(announced.value_or("none"), protocol::version,
                                "the engine at " + peer_name(message.identities.front()));
  if (!why) return true;
  messages_refused_.fetch_add(1, std::memory_order_relaxed);
  refusals_.warn("cannery controller: refused a registration: " + *why);
  protocol::RegistrationRefused refused;
  refused.protocol = protocol::to_string(protocol::version);
  refused.reason = *why;
  send_to(message.identities.front(), refused);
  return false;
}

void Core::on_registration(const protocol::RegistrationRequest& request, const Message& message) {
  const std::string routing(message.identities.front().as_string_view());
  const std::string& uuid = request.uuid;
  const int pid = request.pid;  // only shown and compared, never signalled
  // A routing id taken over by another engine means the old one is gone.
  if (Engine* holder = engine_by_routing(routing); holder != nullptr && holder->info.uuid != uuid) {
    mark_dead(*holder, "engine " + uuid + " registered with its routing id");
    declare_deaths();
  }
  // Requests repeated while the engine waits for an answer carry the same
  // attempt number: answered alike, counted once.
  const auto attempt = static_cast<std::int64_t>(
      std::min<std::uint64_t>(request.registrations, std::numeric_limits<std::int64_t>::max()));
  Engine* engine = nullptr;
  bool repeated = false;
  if (auto it = by_uuid_.find(uuid); it != by_uuid_.end()) {
    engine = &engines_.at(it->second);
    // The same process registering again (it thought we were gone) keeps its
    // tasks and cache; a new process under the same uuid lost them.
    if (engine->info.alive && engine->routing_id != routing) {
      // A live engine's identity belongs to its connection: its uuid travels
      // in clear, and anyone who may register must not make it look dead. (A
      // restarted engine reconnects under its old routing id, engine-<uuid>,
      // which ZeroMQ gives it only once the old connection is gone.)
      return refuse_registration(message, "registration_request for engine " +
                                              std::to_string(engine->info.id) + " (uuid " +
                                              engine->info.uuid +
                                              "), which is alive on another connection; refused");
    }
    if (engine->info.alive && engine->info.pid != pid) {
      // Its connection, a new process: the old one is gone.
      mark_dead(*engine, "it registered again as a new process (pid " + std::to_string(pid) + ")");
      declare_deaths();
    } else if (engine->info.alive) {
      repeated = attempt <= engine->attempt;
      if (!repeated) re_registrations_.fetch_add(1, std::memory_order_relaxed);
    }
  } else {
    const int id = next_engine_id_++;
    engine = &engines_[id];
    engine->info.id = id;
    engine->info.uuid = uuid;
    by_uuid_[uuid] = id;
  }
  if (!engine->info.alive) revive(*engine, routing, message.identities.front());
  engine->info.pid = pid;
  engine->batches = protocol::has_capability(request.capabilities, protocol::capability::batches);
  engine->info.hostname = request.hostname;
  engine->info.rank = request.rank.value_or(-1);
  engine->info.data_endpoint =
      protocol::has_capability(request.capabilities, protocol::capability::data_plane)
          ? request.data_endpoint.value_or("")
          : "";
  engine->relay = !engine->info.data_endpoint.empty() &&
                  protocol::has_capability(request.capabilities, protocol::capability::relay);
  engine->shm_domain = engine->relay ? request.shm_domain.value_or("") : "";
  engine->data_curve_key = options_.curve_server ? request.data_curve_key : std::nullopt;
  engine->info.shared_memory =
      options_.shared_memory &&
      protocol::has_capability(request.capabilities, protocol::capability::shared_memory) &&
      request.shared_memory && shares_memory_with(*request.shared_memory);
  engine->info.functions = request.functions;
  const bool compress = compresses_link_to(*engine, request);
  engine->compressor = compress ? std::make_shared<FrameCompressor>(options_.compression) : nullptr;
  engine->info.compression =
      std::string(to_string(compress ? options_.compression.codec : Codec::none));
  engine->last_seen = Clock::now();
  if (!repeated) {
    ++engine->info.registrations;
    engine->attempt = attempt;
  }
  // Known on the heart socket before the engine can send a heartbeat there.
  heart_->admit(routing);
  protocol::RegistrationReply reply;
  reply.engine_id = engine->info.id;
  reply.heartbeat_ms = options_.heartbeat.count();
  reply.allowed_misses = options_.allowed_misses;
  reply.heartbeat_endpoint = heart_->endpoint();
  reply.protocol = protocol::to_string(protocol::version);
  reply.capabilities = {std::string(protocol::capability::batches)};
  if (options_.shared_memory) reply.capabilities.emplace_back(protocol::capability::shared_memory);
  if (compress) {
    reply.capabilities.emplace_back(protocol::capability::compression);
    reply.compression =
        protocol::CompressionSetting{std::string(to_string(options_.compression.codec)),
                                     options_.compression.min_bytes, options_.compression.level};
  }
  if (send(*engine, reply)) publish_live_count();
}

bool Core::compresses_link_to(const Engine& engine,
                              const protocol::RegistrationRequest& request) const {
  if (options_.compression.codec == Codec::none ||
      !protocol::has_capability(request.capabilities, protocol::capability::compression)) {
    return false;
  }
  // Only links to another host: an endpoint only this host reaches (ipc,
  // loopback) never is one, nor is a link to an engine that sees this
  // host's /dev/shm (or names its domain).
  if (reachable_from_here_only(endpoint_) || engine.info.shared_memory) return false;
  const std::optional<std::string> here = shm_domain();
  return !(request.shm_domain && here && *request.shm_domain == *here);
}

Core::Clock::time_point Core::last_heard(const Engine& engine) const {
  const auto beat = heart_->last_beat(engine.routing_id);
  return beat ? std::max(*beat, engine.last_seen) : engine.last_seen;
}

void Core::tick(Clock::time_point now) {
  receive_memory_.tick(now);
  if (now >= next_liveness_check_) {
    const auto silence_allowed = options_.heartbeat * options_.allowed_misses;
    for (auto& [id, engine] : engines_) {
      if (engine.info.alive && now - last_heard(engine) > silence_allowed) {
        mark_dead(engine, "no heartbeat and no message came from it for " +
                              ms_text(silence_allowed) + " (heartbeat " +
                              ms_text(options_.heartbeat) + " x " +
                              std::to_string(options_.allowed_misses) + " misses)");
      }
    }
    next_liveness_check_ = now + options_.heartbeat;
  }
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    const std::uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    if (tasks_.count(id) != 0) {
      end_task(id, error(errc::timeout,
                         "the task did not end within its timeout (ApplyOptions / MapOptions "
                         "timeout); a late result will be ignored"));
    }
  }
}

void Core::refuse_registration(const Message& message, const std::string& why) {
  messages_refused_.fetch_add(1, std::memory_order_relaxed);
  refusals_.record(error(errc::malformed_message, why), peer_name(message.identities.front()));
}

void Core::forget_old_dead_engines() {
  while (engines_.size() - by_routing_.size() > options_.max_dead_engine_records) {
    auto oldest = engines_.end();
    for (auto it = engines_.begin(); it != engines_.end(); ++it) {
      if (!it->second.info.alive &&
          (oldest == engines_.end() || it->second.died_at < oldest->second.died_at))
        oldest = it;
    }
    if (oldest == engines_.end()) return;
    by_uuid_.erase(oldest->second.info.uuid);
    assigned_.erase(oldest->first);
    engines_.erase(oldest);
  }
}

void Core::mark_dead(Engine& engine, const std::string& why) {
  if (!engine.info.alive || engine.doomed) return;
  engine.doomed = true;
  doomed_.emplace_back(engine.info.id, why);
}

void Core::revive(Engine& engine, const std::string& routing, const Buffer& routing_frame) {
  engine.routing_id = routing;
  engine.routing_frame = routing_frame;
  engine.doomed = false;
  engine.info.alive = true;
  by_routing_[routing] = engine.info.id;
}

void Core::declare_deaths() {
  if (doomed_.empty()) return;  // most rounds
  // Re-queued tasks may be sent in this same round, to other engines; a
  // failed send then marks another engine, handled by the next pass.
  while (!doomed_.empty()) {
    for (const auto& [id, why] : std::exchange(doomed_, {}))
      bury(id, why);
  }
  publish_live_count();
}

void Core::bury(int id, const std::string& why) {
  Engine& engine = engines_.at(id);
  engine.doomed = false;
  engine.info.alive = false;
  engine.died_at = Clock::now();
  engines_died_.fetch_add(1, std::memory_order_relaxed);
  by_routing_.erase(engine.routing_id);
  heart_->forget(engine.routing_id);
  if (!engine.leaving) {
    refusals_.warn("cannery controller: engine " + std::to_string(id) + " (pid " +
                   std::to_string(engine.info.pid) + " on " + engine.info.hostname +
                   ") is declared dead: " + why);
  }
  // Whatever it cached is gone with it (no release_request goes to it when
  // its tasks end below); a revived engine gets puts again. A kept result
  // no other engine holds is lost.
  for (std::uint64_t ref_id : holdings_.unlink_b(id)) {
    auto ref = refs_.find(ref_id);
    if (ref != refs_.end() && ref->second.kept && holdings_.of_a(ref_id).empty()) {
      ref->second.kept->lost = "no engine holds it any more: engine " + std::to_string(id) +
                               ", the last that did, died (" + why + ")";
    }
  }
  // Tasks it was running: resubmitted (in their original order, ahead of
  // newer work) while retries remain, else failed.
  std::vector<std::uint64_t> lost = placement_.unlink_owner(id);
  std::sort(lost.begin(), lost.end());
  for (auto it = lost.rbegin(); it != lost.rend(); ++it) {
    Task& task = tasks_.at(*it);
    if (std::optional<ObjectLost> gone = lost_ref_of(task.request)) {
      end_task(*it, std::move(*gone));
    } else if (task.request.target == -1 && task.request.retries > 0) {
      --task.request.retries;
      const std::uint64_t fresh = ++next_task_id_;  // a late reply to the old id is ignored
      auto node = tasks_.extract(*it);
      node.key() = fresh;
      tasks_.insert(std::move(node));
      any_queue_.push_front(fresh);
      if (auto deadline = tasks_.at(fresh).request.deadline) deadlines_.push({*deadline, fresh});
      tasks_retried_.fetch_add(1, std::memory_order_relaxed);
    } else {
      end_task(*it, EngineDied(id, "engine " + std::to_string(id) +
                                       " died while running the task: " + why));
    }
  }
  std::deque<std::uint64_t> waiting;
  waiting.swap(engine.queue);
  // Tasks left to the scheduler that waited here for a kept result go back
  // to it, in order, ahead of newer work, unless the result is lost.
  for (auto it = waiting.rbegin(); it != waiting.rend(); ++it) {
    auto task = tasks_.find(*it);
    if (task == tasks_.end()) continue;  // timed out while queued
    if (std::optional<ObjectLost> gone = lost_ref_of(task->second.request)) {
      end_task(*it, std::move(*gone));
    } else if (task->second.request.target == -1) {
      any_queue_.push_front(*it);
    } else {
      end_task(*it, EngineDied(id, "engine " + std::to_string(id) +
                                       " died before the task aimed at it was sent: " + why));
    }
  }
}

void Core::check_invariants() const {
  auto broken = [](const std::string& what) {
    std::fprintf(stderr, "cannery controller: internal invariant broken: %s\n", what.c_str());
    std::abort();
  };
  if (!placement_.consistent()) broken("a task's engine and the engine's tasks disagree");
  if (!holdings_.consistent()) broken("refs held by engines and their holders disagree");
  placement_.for_each([&](std::uint64_t task, int engine) {
    if (tasks_.count(task) == 0) broken("task " + std::to_string(task) + " ended but is in flight");
    auto e = engines_.find(engine);
    if (e == engines_.end() || !e->second.info.alive) {
      broken("task " + std::to_string(task) + " is in flight on engine " + std::to_string(engine) +
             ", which is not alive");
    }
  });
  holdings_.for_each([&](std::uint64_t ref, int engine) {
    if (refs_.count(ref) == 0) broken("ref " + std::to_string(ref) + " released but held");
    auto e = engines_.find(engine);
    if (e == engines_.end() || !e->second.info.alive) {
      broken("ref " + std::to_string(ref) + " is held by engine " + std::to_string(engine) +
             ", which is not alive");
    }
  });
  std::size_t alive = 0;
  for (const auto& [id, engine] : engines_) {
    if (engine.doomed) broken("engine " + std::to_string(id) + " was marked dead and not buried");
    if (!engine.info.alive) continue;
    ++alive;
    auto routed = by_routing_.find(engine.routing_id);
    if (routed == by_routing_.end() || routed->second != id) {
      broken("live engine " + std::to_string(id) + " is not found by its routing id");
    }
  }
  if (alive != by_routing_.size()) broken("the routing map and the live engines disagree");
  {
    std::lock_guard lock(live_mutex_);
    if (live_count_ != alive) broken("the published live count and the live engines disagree");
  }
  std::unordered_map<std::uint64_t, std::size_t> uses;
  for (const auto& [id, task] : tasks_)
    for (std::uint64_t ref : task.request.refs)
      ++uses[ref];
  for (const auto& [id, ref] : refs_) {
    if (ref.uses != uses[id]) {
      broken("ref " + std::to_string(id) + " counts " + std::to_string(ref.uses) +
             " uses, tasks make " + std::to_string(uses[id]));
    }
  }
}

}  // namespace cannery::detail
