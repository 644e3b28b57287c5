// Core: accepting tasks, dispatching them to engines, their replies and ends,
// and the cached objects (refs) they use.
#include <algorithm>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/errors.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/detail/content_fields.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/protocol.hpp"
#include "core.hpp"

namespace cannery::detail {
namespace {

std::string_view message_type(RequestKind kind) {
  switch (kind) {
    case RequestKind::apply:
      return protocol::apply_request;
    case RequestKind::map:
      return protocol::map_request;
    case RequestKind::push:
      return protocol::push_request;
    case RequestKind::pull:
      return protocol::pull_request;
  }
  return protocol::apply_request;
}

}  // namespace

void Core::accept(Submission&& s) {
  auto refuse = [&](TaskFailure why) {
    ++released_;
    s.sink->fail(s.slot, std::move(why));
  };
  for (std::uint64_t ref : s.refs) {
    if (refs_.count(ref) == 0) {
      return refuse(error(errc::invalid_argument, "ObjectRef " + std::to_string(ref) +
                                                      " is not known to this controller (made by "
                                                      "another Controller's put()?)"));
    }
  }
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
  }
  const std::uint64_t id = ++next_task_id_;
  for (std::uint64_t ref : s.refs)
    ++refs_.at(ref).uses;
  if (s.deadline) deadlines_.push({*s.deadline, id});
  const int target = s.target;
  tasks_.emplace(id, Task{std::move(s)});
  if (target == -1) {
    any_queue_.push_back(id);
  } else {
    engines_.at(target).queue.push_back(id);
  }
}

void Core::dispatch() {
  // Tasks are assigned first and sent per engine afterwards, so that an
  // engine that takes batches gets all of this round's tasks in one message.
  for (auto& [engine_id, ids] : assigned_)
    ids.clear();
  const std::size_t room = options_.max_in_flight_per_engine;
  for (auto& [engine_id, engine] : engines_) {
    while (engine.info.alive && !engine.queue.empty() && engine.in_flight.size() < room) {
      const std::uint64_t id = engine.queue.front();
      engine.queue.pop_front();
      if (tasks_.count(id) != 0) assign(engine, id);  // else it timed out while queued
    }
  }
  while (!any_queue_.empty()) {
    const std::uint64_t id = any_queue_.front();
    auto task = tasks_.find(id);
    if (task == tasks_.end()) {
      any_queue_.pop_front();
      continue;
    }
    candidates_.clear();
    for (const auto& [engine_id, engine] : engines_) {
      if (engine.info.alive && engine.in_flight.size() < room)
        candidates_.push_back({engine_id, engine.in_flight.size(), engine.last_assigned});
    }
    if (candidates_.empty()) break;  // every engine is full: back-pressure
    const int chosen = candidates_[pick_engine(task->second.request.scheme, candidates_, rng_)].id;
    any_queue_.pop_front();
    assign(engines_.at(chosen), id);
  }
  for (auto& [engine_id, ids] : assigned_) {
    if (!ids.empty()) send_assigned(engines_.at(engine_id), ids);
  }
}

void Core::assign(Engine& engine, std::uint64_t id) {
  Task& task = tasks_.at(id);
  task.engine = engine.info.id;
  engine.in_flight.insert(id);
  engine.last_assigned = ++assign_seq_;
  if (task.counted_pending) {
    task.counted_pending = false;
    ++released_;
  }
  task.request.sink->dispatched(task.request.slot, engine.info.id);
  assigned_[engine.info.id].push_back(id);
}

void Core::send_assigned(Engine& engine, std::span<const std::uint64_t> ids) {
  // More parts would only delay the first replies of a long queue.
  constexpr std::size_t max_batch = 64;
  while (!ids.empty()) {
    const std::span<const std::uint64_t> group =
        ids.first(engine.batches ? std::min(ids.size(), max_batch) : 1);
    ids = ids.subspan(group.size());
    // A failed send declared the engine dead, which failed or requeued every
    // task in flight on it, these included.
    for (std::uint64_t id : group) {
      if (!send_refs(engine, tasks_.at(id))) return;
    }
    if (group.size() == 1) {
      const Task& task = tasks_.at(group.front());
      Object::Dict content = request_content(task, group.front());
      SharedSends sends;
      std::optional<std::vector<Buffer>> shared =
          shared_request_frames(engine, task, content, sends);
      // The frames are shared, not copied: a retry may need them again.
      if (!send(engine, message_type(task.request.kind), std::move(content),
                shared ? std::move(*shared) : task.request.frames)) {
        return;
      }
      count_sent(sends);
      continue;
    }
    BatchBuilder batch;
    SharedSends sends;
    for (std::uint64_t id : group) {
      const Task& task = tasks_.at(id);
      Object::Dict content = request_content(task, id);
      content.insert_or_assign(std::string(protocol::type),
                               Object(std::string(message_type(task.request.kind))));
      std::optional<std::vector<Buffer>> shared =
          shared_request_frames(engine, task, content, sends);
      batch.add(std::move(content), shared ? *shared : task.request.frames);
    }
    if (!send(engine, protocol::batch_request, batch.take_content(protocol::requests),
              batch.take_buffers())) {
      return;
    }
    count_sent(sends);
  }
}

bool Core::send_refs(Engine& engine, const Task& task) {
  // A cached object goes first, once per engine, on the same connection, so
  // it arrives before the request that names it.
  for (std::uint64_t ref_id : task.request.refs) {
    Ref& ref = refs_.at(ref_id);
    if (ref.holders.count(engine.info.id) != 0) continue;
    Object::Dict content{{std::string(protocol::ref), Object(ref_id)}};
    const bool shared = ref.shared != nullptr && engine.info.shared_memory;
    if (shared) content.emplace(std::string(protocol::shared_memory), ref.shared->descriptor());
    if (!send(engine, protocol::put_request, std::move(content),
              shared ? ref.shared->placeholders(ref.frames) : ref.frames)) {
      return false;
    }
    if (shared) count_sent({1, ref.shared->in_place_bytes()});
    ref.holders.insert(engine.info.id);
    engine.refs_held.insert(ref_id);
  }
  return true;
}

Object::Dict Core::request_content(const Task& task, std::uint64_t id) const {
  Object::Dict content = task.request.content;
  content.insert_or_assign(std::string(protocol::task), Object(id));
  return content;
}

void Core::count_sent(const SharedSends& sends) noexcept {
  if (sends.requests == 0) return;
  shared_memory_sends_.fetch_add(sends.requests, std::memory_order_relaxed);
  shared_memory_in_place_bytes_.fetch_add(sends.in_place_bytes, std::memory_order_relaxed);
}

std::optional<std::vector<Buffer>> Core::shared_request_frames(const Engine& engine,
                                                               const Task& task,
                                                               Object::Dict& content,
                                                               SharedSends& sends) const {
  if (!options_.shared_memory || !engine.info.shared_memory) return std::nullopt;
  // Only what is already in shared memory: the task holds those frames, so
  // their segments outlive its request; nothing is written for a task.
  std::optional<SharedFrames> shared =
      SharedFrames::in_place(task.request.frames, options_.shared_memory_min_frame);
  if (!shared) return std::nullopt;
  content.insert_or_assign(std::string(protocol::shared_memory), shared->descriptor());
  ++sends.requests;
  sends.in_place_bytes += shared->in_place_bytes();
  return shared->placeholders(task.request.frames);
}

bool Core::send(Engine& engine, std::string_view msg_type, Object::Dict content,
                std::vector<Buffer> buffers) {
  Message message = session_.message(msg_type, Object(std::move(content)));
  message.identities.push_back(engine.routing_frame);
  message.buffers = std::move(buffers);
  const std::vector<Buffer> frames = session_.serialize(std::move(message));
  try {
    // Never block the I/O thread. The socket has no high-water mark, so only
    // libzmq failing to queue the message refuses it here.
    if (!send_frames(router_, frames, session_.options().frames, zmq::send_flags::dontwait)) {
      declare_dead(engine, "libzmq could not queue a message for it");
      return false;
    }
  } catch (const error& e) {
    // ROUTER_MANDATORY: EHOSTUNREACH when the peer disconnected.
    declare_dead(engine, "it is unreachable (" + e.message() + ")");
    return false;
  }
  std::uint64_t bytes = 0;
  for (const Buffer& f : frames)
    bytes += f.size();
  bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  messages_sent_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Core::send_to(const Buffer& routing_frame, std::string_view msg_type, Object::Dict content,
                   std::vector<Buffer> buffers) {
  Message message = session_.message(msg_type, Object(std::move(content)));
  message.identities.push_back(routing_frame);
  message.buffers = std::move(buffers);
  try {
    if (send_frames(router_, session_.serialize(std::move(message)), session_.options().frames,
                    zmq::send_flags::dontwait)) {
      messages_sent_.fetch_add(1, std::memory_order_relaxed);
    }
  } catch (const error&) {
    // The unknown peer is gone as well: nothing to tell it.
  }
}

void Core::on_batch_reply(Engine& engine, Message& message) {
  std::vector<BatchPart> parts;
  try {
    parts = split_batch(message.content, protocol::replies, message.buffers);
  } catch (const error& e) {
    messages_refused_.fetch_add(1, std::memory_order_relaxed);
    refusals_.record(e, "engine " + std::to_string(engine.info.id));
    return;
  }
  for (const BatchPart& part : parts)
    on_reply(engine, part.content, part.buffers);
}

void Core::on_reply(Engine& engine, const Object& content, std::span<Buffer> buffers) {
  const auto task_id = int_field(content, protocol::task);
  if (!task_id || *task_id < 0) {
    messages_refused_.fetch_add(1, std::memory_order_relaxed);
    refusals_.record(error(errc::malformed_message, "apply_reply without an integer 'task'"),
                     "engine " + std::to_string(engine.info.id));
    return;
  }
  const auto id = static_cast<std::uint64_t>(*task_id);
  auto it = tasks_.find(id);
  // Ended already (timeout, a retry elsewhere, a duplicate) or never sent
  // there: exactly-once means the first end wins and the rest are dropped.
  if (it == tasks_.end() || it->second.engine != engine.info.id) {
    ignored_replies_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const auto status = string_field(content, protocol::status);
  if (status == protocol::status_ok) {
    end_task(id, std::nullopt, engine.info.id,
             std::vector<Buffer>(std::make_move_iterator(buffers.begin()),
                                 std::make_move_iterator(buffers.end())));
  } else if (status == protocol::status_error) {
    end_task(id, RemoteError(engine.info.id, string_field(content, protocol::function).value_or(""),
                             string_field(content, protocol::ename).value_or("unknown"),
                             string_field(content, protocol::evalue).value_or("")));
  } else {
    end_task(id, error(errc::malformed_message,
                       "engine " + std::to_string(engine.info.id) +
                           " replied with a status that is neither 'ok' nor 'error'"));
  }
}

void Core::end_task(std::uint64_t id, std::optional<TaskFailure> failure, int engine_id,
                    std::vector<Buffer> frames) {
  auto node = tasks_.extract(id);
  if (node.empty()) return;
  Task& task = node.mapped();
  if (task.engine >= 0) {
    if (auto e = engines_.find(task.engine); e != engines_.end()) e->second.in_flight.erase(id);
  }
  if (task.counted_pending) ++released_;
  for (std::uint64_t ref : task.request.refs)
    release_ref_use(ref);
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
  // Out of the table first: a failed send below may declare an engine dead,
  // which walks the table.
  auto node = refs_.extract(it);
  for (int holder : node.mapped().holders) {
    auto e = engines_.find(holder);
    if (e == engines_.end()) continue;
    e->second.refs_held.erase(ref_id);
    if (!e->second.info.alive) continue;
    Object::List ids{Object(ref_id)};
    send(e->second, protocol::release_request,
         Object::Dict{{std::string(protocol::refs), Object(std::move(ids))}});
  }
}

}  // namespace cannery::detail
