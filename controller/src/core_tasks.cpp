// Core: accepting tasks, dispatching them to engines, their replies and ends,
// and the cached objects (refs) they use.
#include <algorithm>
#include <iterator>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/errors.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/protocol.hpp"
#include "core.hpp"

namespace cannery::detail {
void Core::accept(Submission&& s) {
  auto refuse = [&](TaskFailure why) {
    ++released_;
    s.held.clear();  // as end_task does
    s.sink->fail(s.slot, std::move(why));
  };
  for (std::uint64_t ref : s.refs) {
    if (refs_.count(ref) == 0) {
      return refuse(error(errc::invalid_argument, "ObjectRef " + std::to_string(ref) +
                                                      " is not known to this controller (made by "
                                                      "another Controller?)"));
    }
  }
  if (std::optional<ObjectLost> lost = lost_ref_of(s)) return refuse(std::move(*lost));
  if (s.target != -1) {
    auto it = engines_.find(s.target);
    if (it == engines_.end()) {
      return refuse(error(errc::invalid_argument,
                          "no engine has id " + std::to_string(s.target) +
                              "; Controller::engines() lists them (or use any_engine)"));
    }
    if (!it->second.info.alive) {
      return refuse(EngineDied(
          s.target, "engine " + std::to_string(s.target) + " is dead; the task was not sent"));
    }
    if (needs_data_plane(s) && it->second.info.data_endpoint.empty()) {
      return refuse(error(errc::invalid_argument,
                          "engine " + std::to_string(s.target) +
                              " has no data socket, so it can neither keep a result for other "
                              "engines nor fetch one: run a cannery engine of protocol 1.2 or "
                              "later, with its data plane on (EngineOptions::data_plane)"));
    }
  }
  const std::uint64_t id = ++next_task_id_;
  for (std::uint64_t ref : s.refs)
    ++refs_.at(ref).uses;
  if (s.keep_as) refs_[*s.keep_as].kept = Ref::Kept{s.function, -1, std::nullopt};
  if (s.deadline) deadlines_.push({*s.deadline, id});
  int queue = s.target;
  // Left to the scheduler, a task that takes a kept result runs where it is.
  for (std::size_t i = 0; queue == -1 && i < s.refs.size(); ++i)
    if (Engine* holder = holder_of(s.refs[i])) queue = holder->info.id;
  tasks_.emplace(id, Task{std::move(s)});
  if (queue == -1) {
    any_queue_.push_back(id);
  } else {
    engines_.at(queue).queue.push_back(id);
  }
}

bool Core::needs_data_plane(const Submission& s) const {
  if (s.keep_as) return true;
  return std::any_of(s.refs.begin(), s.refs.end(), [&](std::uint64_t ref) {
    auto it = refs_.find(ref);
    return it != refs_.end() && it->second.kept;
  });
}

Core::Engine* Core::holder_of(std::uint64_t ref_id) {
  auto ref = refs_.find(ref_id);
  if (ref == refs_.end() || !ref->second.kept) return nullptr;
  for (int id : holdings_.of_a(ref_id)) {
    Engine& engine = engines_.at(id);
    if (engine.info.alive && !engine.doomed) return &engine;
  }
  return nullptr;
}

std::optional<ObjectLost> Core::lost_ref_of(const Submission& s,
                                            const std::optional<std::string>& why) const {
  for (std::uint64_t ref_id : s.refs) {
    auto ref = refs_.find(ref_id);
    if (ref == refs_.end() || !ref->second.kept) continue;
    const Ref::Kept& kept = *ref->second.kept;
    if (why || kept.lost)
      return ObjectLost(ref_id, kept.engine, kept.function, why.value_or(*kept.lost));
  }
  return std::nullopt;
}

void Core::note_kept(const Task& task, Engine& engine) {
  const std::uint64_t ref_id = *task.request.keep_as;
  kept_results_.fetch_add(1, std::memory_order_relaxed);
  auto ref = refs_.find(ref_id);
  if (ref == refs_.end()) {
    // Its ObjectRef was dropped before the task ended: nothing will use it.
    send(engine, protocol::ReleaseRequest{{ref_id}});
    return;
  }
  ref->second.kept->engine = engine.info.id;
  holdings_.link(ref_id, engine.info.id);
}

void Core::dispatch() {
  // Tasks are assigned first and sent per engine afterwards, so that an
  // engine that takes batches gets all of this round's tasks in one message.
  for (auto& [engine_id, ids] : assigned_)
    ids.clear();
  const std::size_t room = options_.max_in_flight_per_engine;
  for (auto& [engine_id, engine] : engines_) {
    while (engine.info.alive && !engine.doomed && !engine.queue.empty() &&
           placement_.count(engine_id) < room) {
      const std::uint64_t id = engine.queue.front();
      engine.queue.pop_front();
      if (tasks_.count(id) != 0) assign(engine, id);  // else it timed out while queued
    }
  }
  // The engines with room, listed once per round and kept up to date as
  // tasks go to them: a scan of every engine per task made the I/O thread's
  // cost per task grow with the number of engines.
  candidates_.clear();
  for (const auto& [engine_id, engine] : engines_) {
    const std::size_t in_flight = placement_.count(engine_id);
    if (engine.info.alive && !engine.doomed && in_flight < room)
      candidates_.push_back(
          {engine_id, in_flight, engine.last_assigned, !engine.info.data_endpoint.empty()});
  }
  // A least-loaded task's pick also places the queue's next tasks, as long
  // as they are least-loaded too and need no data socket: as many as each
  // engine with room could get from the queue, at most a batch. One pick then
  // places a group, and each engine's tasks leave together rather than one
  // per engine in turn; no engine gets more than its share of what is
  // queued, so long tasks stay spread out.
  std::size_t group_left = 0;  // of the group going to candidates_[group_at]
  std::size_t group_at = 0;
  while (!any_queue_.empty() && !candidates_.empty()) {
    const std::uint64_t id = any_queue_.front();
    auto task = tasks_.find(id);
    if (task == tasks_.end()) {
      any_queue_.pop_front();
      continue;
    }
    const Submission& request = task->second.request;
    const bool leastload = request.scheme == Scheme::leastload;
    const bool data_plane = needs_data_plane(request);
    std::size_t chosen = group_at;
    if (group_left > 0 && leastload && !data_plane) {
      --group_left;
    } else if (data_plane) {
      data_candidates_.clear();
      std::copy_if(candidates_.begin(), candidates_.end(), std::back_inserter(data_candidates_),
                   [](const Candidate& c) { return c.data_plane; });
      if (data_candidates_.empty()) break;  // every engine with a data socket is full
      const int engine_id =
          data_candidates_[pick_engine(request.scheme, data_candidates_, rng_)].id;
      chosen = static_cast<std::size_t>(
          std::find_if(candidates_.begin(), candidates_.end(),
                       [&](const Candidate& c) { return c.id == engine_id; }) -
          candidates_.begin());
      group_left = 0;
    } else {
      chosen = pick_engine(request.scheme, candidates_, rng_);
      group_left =
          leastload
              ? std::clamp<std::size_t>(any_queue_.size() / candidates_.size(), 1, max_batch) - 1
              : 0;
    }
    group_at = chosen;
    any_queue_.pop_front();
    Candidate& candidate = candidates_[chosen];
    assign(engines_.at(candidate.id), id);
    candidate.last_assigned = assign_seq_;
    if (++candidate.in_flight >= room) {
      // Full: out of this round's list (order does not matter to the
      // schemes), and the end of its group.
      candidate = candidates_.back();
      candidates_.pop_back();
      group_left = 0;
    }
  }
  for (auto& [engine_id, ids] : assigned_) {
    // A kept result lost since the task was queued: the task ends here.
    std::erase_if(ids, [&](std::uint64_t id) {
      std::optional<ObjectLost> lost = lost_ref_of(tasks_.at(id).request);
      if (lost) end_task(id, std::move(*lost));
      return lost.has_value();
    });
    if (!ids.empty()) send_assigned(engines_.at(engine_id), ids);
  }
}

void Core::assign(Engine& engine, std::uint64_t id) {
  Task& task = tasks_.at(id);
  placement_.link(id, engine.info.id);
  engine.last_assigned = ++assign_seq_;
  if (task.counted_pending) {
    task.counted_pending = false;
    ++released_;
  }
  task.request.sink->dispatched(task.request.slot, engine.info.id);
  assigned_[engine.info.id].push_back(id);
}

void Core::send_assigned(Engine& engine, std::span<const std::uint64_t> ids) {
  while (!ids.empty()) {
    const std::span<const std::uint64_t> group =
        ids.first(engine.batches ? std::min(ids.size(), max_batch) : 1);
    ids = ids.subspan(group.size());
    // A failed send marked the engine dead: every task in flight on it, these
    // included, is re-queued or failed when the round declares its death.
    for (std::uint64_t id : group) {
      if (!send_refs(engine, tasks_.at(id))) return;
    }
    SharedSends sends;
    if (group.size() == 1) {
      // Not a structured binding: clang before 16 cannot capture one.
      auto work = request_for(engine, group.front(), sends);
      const std::vector<Buffer>& frames = tasks_.at(group.front()).request.frames;
      // The task's frames are shared, not copied: a retry may need them again.
      const bool sent = std::visit(
          [&](const auto& r) {
            return send(engine, r, work.second ? std::move(*work.second) : frames);
          },
          work.first);
      if (!sent) return;
      count_sent(sends);
      continue;
    }
    BatchBuilder batch;
    for (std::uint64_t id : group) {
      const auto work = request_for(engine, id, sends);
      const std::vector<Buffer>& frames = tasks_.at(id).request.frames;
      std::visit([&](const auto& r) { batch.add(r, work.second ? *work.second : frames); },
                 work.first);
    }
    Message message = session_.message(protocol::batch_request,
                                       Object(batch.take_content(protocol::batch_requests_field)));
    if (!send(engine, std::move(message), batch.take_buffers())) return;
    count_sent(sends);
  }
}

bool Core::send_refs(Engine& engine, const Task& task) {
  // A cached object goes first, once per engine, on the same connection, so
  // it arrives before the request that names it.
  for (std::uint64_t ref_id : task.request.refs) {
    Ref& ref = refs_.at(ref_id);
    if (holdings_.linked(ref_id, engine.info.id)) continue;
    if (ref.kept) {
      // Engine to engine: this one fetches it from a holder's data socket.
      const Engine* holder = holder_of(ref_id);
      if (holder == nullptr) {
        // Its holders are dying this round: the fetch fails, and the task
        // ends with ObjectLost saying so.
        const std::vector<int> dying = holdings_.of_a(ref_id);
        if (dying.empty()) continue;
        holder = &engines_.at(dying.front());
      }
      if (!send(engine,
                protocol::FetchRequest{ref_id, holder->info.id, holder->info.data_endpoint,
                                       std::nullopt, std::nullopt, holder->data_curve_key})) {
        return false;
      }
      fetch_requests_.fetch_add(1, std::memory_order_relaxed);
      holdings_.link(ref_id, engine.info.id);
      continue;
    }
    if (relays(engine, ref)) {
      if (!send_relayed(engine, ref_id, ref)) return false;
      continue;
    }
    protocol::PutRequest put;
    put.ref = ref_id;
    const bool shared = ref.shared != nullptr && engine.info.shared_memory;
    if (shared) put.shared_memory = ref.shared->descriptor();
    if (!send(engine, put, shared ? ref.shared->placeholders(ref.frames) : ref.frames)) {
      return false;
    }
    if (shared) count_sent({1, ref.shared->in_place_bytes()});
    if (!shared) add_ref_stats(ref_id, {.controller_bytes = total_size(ref.frames)});
    holdings_.link(ref_id, engine.info.id);
  }
  return true;
}

void Core::count_sent(const SharedSends& sends) noexcept {
  if (sends.requests == 0) return;
  shared_memory_sends_.fetch_add(sends.requests, std::memory_order_relaxed);
  shared_memory_in_place_bytes_.fetch_add(sends.in_place_bytes, std::memory_order_relaxed);
}

std::pair<WorkRequest, std::optional<std::vector<Buffer>>> Core::request_for(
    const Engine& engine, std::uint64_t id, SharedSends& sends) const {
  const Task& task = tasks_.at(id);
  std::pair<WorkRequest, std::optional<std::vector<Buffer>>> out{task.request.request,
                                                                 std::nullopt};
  std::visit(
      [&](auto& r) {
        r.task = id;
        if constexpr (requires { r.shared_memory; }) {
          if (!options_.shared_memory || !engine.info.shared_memory) return;
          // Only what is already in shared memory: the task holds those
          // frames, so their segments outlive its request; nothing is written
          // for a task.
          std::optional<SharedFrames> shared =
              SharedFrames::in_place(task.request.frames, options_.shared_memory_min_frame);
          if (!shared) return;
          r.shared_memory = shared->descriptor();
          ++sends.requests;
          sends.in_place_bytes += shared->in_place_bytes();
          out.second = shared->placeholders(task.request.frames);
        }
      },
      out.first);
  return out;
}

bool Core::send(Engine& engine, Message message, std::vector<Buffer> buffers) {
  if (engine.doomed || !engine.info.alive) return false;
  message.identities.push_back(engine.routing_frame);
  message.buffers = std::move(buffers);
  message.compressor = engine.compressor;
  const std::vector<Buffer> frames = session_.serialize(std::move(message));
  try {
    // Never block the I/O thread. The socket has no high-water mark, so only
    // libzmq failing to queue the message refuses it here.
    if (!send_frames(router_, frames, session_.options().frames, zmq::send_flags::dontwait)) {
      mark_dead(engine, "libzmq could not queue a message for it");
      return false;
    }
  } catch (const error& e) {
    // ROUTER_MANDATORY: EHOSTUNREACH when the peer disconnected.
    mark_dead(engine, "it is unreachable (" + e.message() + ")");
    return false;
  }
  std::uint64_t bytes = 0;
  for (const Buffer& f : frames)
    bytes += f.size();
  bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  messages_sent_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

template <protocol::MessageType T>
void Core::send_to(const Buffer& routing_frame, const T& content) {
  Message message = session_.message(T::type, Object(protocol::encode(content)));
  message.identities.push_back(routing_frame);
  try {
    if (send_frames(router_, session_.serialize(std::move(message)), session_.options().frames,
                    zmq::send_flags::dontwait)) {
      messages_sent_.fetch_add(1, std::memory_order_relaxed);
    }
  } catch (const error&) {
    // The peer is gone as well: nothing to tell it.
  }
}

template void Core::send_to(const Buffer&, const protocol::UnknownEngine&);
template void Core::send_to(const Buffer&, const protocol::RegistrationRefused&);

void Core::on_batch_reply(Engine& engine, Message& message) {
  std::vector<BatchPart> parts;
  try {
    parts = split_batch(message.content, protocol::batch_replies_field, message.buffers);
  } catch (const error& e) {
    messages_refused_.fetch_add(1, std::memory_order_relaxed);
    refusals_.record(e, "engine " + std::to_string(engine.info.id));
    return;
  }
  for (const BatchPart& part : parts) {
    try {
      on_reply(engine, protocol::decode<protocol::ApplyReply>(part.content), part.buffers);
    } catch (const error& e) {
      messages_refused_.fetch_add(1, std::memory_order_relaxed);
      refusals_.record(e, "engine " + std::to_string(engine.info.id));
    }
  }
}

void Core::on_reply(Engine& engine, const protocol::ApplyReply& reply, std::span<Buffer> buffers) {
  auto it = tasks_.find(reply.task);
  // Ended already (timeout, a retry elsewhere, a duplicate) or never sent
  // there: exactly-once means the first end wins and the rest are dropped.
  if (it == tasks_.end() || placement_.owner_of(reply.task) != engine.info.id) {
    ignored_replies_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (reply.status == protocol::Status::ok) {
    if (it->second.request.keep_as) note_kept(it->second, engine);
    end_task(reply.task, std::nullopt, engine.info.id,
             std::vector<Buffer>(std::make_move_iterator(buffers.begin()),
                                 std::make_move_iterator(buffers.end())));
    return;
  }
  // A kept result that the engine could not fetch: told as the ref's loss.
  if (reply.ename == "cannery." + std::string(to_string(errc::object_lost))) {
    if (std::optional<ObjectLost> lost = lost_ref_of(
            it->second.request, "engine " + std::to_string(engine.info.id) +
                                    " could not fetch it: " + reply.evalue.value_or(""))) {
      return end_task(reply.task, std::move(*lost));
    }
  }
  end_task(reply.task, RemoteError(engine.info.id, reply.function.value_or(""),
                                   reply.ename.value_or("unknown"), reply.evalue.value_or("")));
}

void Core::end_task(std::uint64_t id, std::optional<TaskFailure> failure, int engine_id,
                    std::vector<Buffer> frames) {
  auto node = tasks_.extract(id);
  if (node.empty()) return;
  Task& task = node.mapped();
  placement_.unlink(id);
  if (task.counted_pending) ++released_;
  for (std::uint64_t ref : task.request.refs)
    release_ref_use(ref);
  // Before the end is told: once the caller has seen every task given an
  // object by value end, giving it again puts it anew (AutoPuts).
  task.request.held.clear();
  task.request.sink->retire(std::move(task.request.frames));
  if (failure) {
    task.request.sink->fail(task.request.slot, std::move(*failure));
  } else {
    task.request.sink->succeed(task.request.slot, engine_id, std::move(frames));
  }
}

void Core::release_ref_use(std::uint64_t ref_id) {
  auto it = refs_.find(ref_id);
  if (it == refs_.end()) return;
  if (it->second.uses > 0) --it->second.uses;
  maybe_release(ref_id);
}

void Core::maybe_release(std::uint64_t ref_id) {
  auto it = refs_.find(ref_id);
  if (it == refs_.end() || !it->second.dropped || it->second.uses != 0) return;
  refs_.erase(it);
  {
    std::lock_guard lock(relay_mutex_);
    relay_objects_.erase(ref_id);
  }
  {
    std::lock_guard lock(ref_stats_mutex_);
    ref_stats_.erase(ref_id);
  }
  for (int holder : holdings_.unlink_a(ref_id)) {
    protocol::ReleaseRequest release;
    release.refs = {ref_id};
    send(engines_.at(holder), release);  // holders are alive; a failed send marks it dead
  }
}

}  // namespace cannery::detail
