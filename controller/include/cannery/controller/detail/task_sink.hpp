#pragma once
// Where the controller's I/O thread delivers the end of a task. One sink can
// collect many tasks (a map's chunks), told apart by `slot`. Each slot ends
// exactly once: the I/O thread removes a task from its tables before calling.

#include <cstddef>
#include <variant>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/controller/errors.hpp"

namespace cannery::detail {

// Why a task failed, kept as a value so that each waiter throws an exception
// object of its own. A std::exception_ptr would share one object between the
// I/O thread and the waiters, freed by whichever drops it last through a
// reference count inside libstdc++ that ThreadSanitizer cannot see.
class TaskFailure {
 public:
  TaskFailure(error why) : why_(std::move(why)) {}
  TaskFailure(RemoteError why) : why_(std::move(why)) {}
  TaskFailure(EngineDied why) : why_(std::move(why)) {}
  TaskFailure(ObjectLost why) : why_(std::move(why)) {}

  // Throws the failure, of the type it was made with, built afresh: a copy
  // would share std::runtime_error's reference-counted message with the one
  // kept here, the same hand-over the sanitizer cannot see.
  [[noreturn]] void raise() const {
    if (const auto* remote = std::get_if<RemoteError>(&why_)) {
      throw RemoteError(remote->engine_id(), remote->function(), remote->type(), remote->message());
    }
    if (const auto* died = std::get_if<EngineDied>(&why_)) {
      throw EngineDied(died->engine_id(), died->message());
    }
    if (const auto* lost = std::get_if<ObjectLost>(&why_)) {
      throw ObjectLost(lost->ref_id(), lost->engine_id(), lost->function(), lost->why());
    }
    const error& other = std::get<error>(why_);
    throw error(other.code(), other.message());
  }

 private:
  std::variant<error, RemoteError, EngineDied, ObjectLost> why_;
};

class TaskSink {
 public:
  virtual ~TaskSink() = default;
  // The task was handed to engine `engine_id` (again, after a retry).
  virtual void dispatched(std::size_t /*slot*/, int /*engine_id*/) noexcept {}
  // The reply's buffers: one canned object.
  virtual void succeed(std::size_t slot, int engine_id, std::vector<Buffer> frames) noexcept = 0;
  virtual void fail(std::size_t slot, TaskFailure why) noexcept = 0;
  // The request's frames, no longer needed (called once, before succeed or
  // fail). They were made on the caller's thread: a sink the caller holds can
  // keep them so that they are freed there too, where malloc takes them back
  // cheaply, not on the I/O thread. By default they go at once.
  virtual void retire(std::vector<Buffer> /*request_frames*/) noexcept {}
};

}  // namespace cannery::detail
