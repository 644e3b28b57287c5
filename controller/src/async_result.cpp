#include "cannery/controller/async_result.hpp"

#include <string>

#include "cannery/canning/builtins/scalars.hpp"
#include "cannery/canning/error.hpp"

namespace cannery {
namespace detail {

void TaskState::dispatched(std::size_t, int engine_id) noexcept {
  engine_id_.store(engine_id, std::memory_order_release);
}

void TaskState::retire(std::vector<Buffer> request_frames) noexcept {
  // Far below glibc's mmap threshold (128 KiB at least): blocks of a size
  // that malloc recycles through its arenas.
  constexpr std::size_t kept_bytes = 16 * 1024;
  std::size_t bytes = 0;
  for (const Buffer& frame : request_frames)
    bytes += frame.size();
  if (bytes <= kept_bytes) retired_ = std::move(request_frames);
}

void TaskState::succeed(std::size_t, int engine_id, std::vector<Buffer> frames) noexcept {
  engine_id_.store(engine_id, std::memory_order_release);
  completion_.update([&] {
    frames_ = std::move(frames);
    return true;
  });
}

ObjectRef TaskState::kept_ref() const {
  if (!kept_) {
    throw error(errc::invalid_argument,
                "this task's result came back; only a task given ApplyOptions::keep_result "
                "gives an ObjectRef (call get<T>() for the value)");
  }
  // The engine answered with the kept object's size.
  const auto bytes = deserialize_object<std::int64_t>(frames_).value;
  if (bytes < 0) {
    throw error(errc::malformed_message, "the engine kept the result but gave its size as " +
                                             std::to_string(bytes) + " bytes");
  }
  kept_->nbytes.store(static_cast<std::size_t>(bytes), std::memory_order_relaxed);
  return ObjectRef(kept_);
}

void TaskState::fail(std::size_t, TaskFailure why) noexcept {
  completion_.update([&] {
    failure_.emplace(std::move(why));
    return true;
  });
}

std::span<const Buffer> TaskState::frames_or_throw() const {
  std::lock_guard lock(completion_.mutex());
  if (failure_) failure_->raise();
  // Written once before the completion settled, never again: safe to read
  // after the lock.
  return frames_;
}

void throw_wait_timeout(std::chrono::milliseconds timeout, const char* what) {
  throw error(errc::timeout, std::string(what) + " did not arrive within " +
                                 std::to_string(timeout.count()) +
                                 " ms; the work goes on: wait again, or pass a longer timeout");
}

}  // namespace detail

const detail::TaskState& AsyncResult::state() const {
  if (!state_) {
    throw error(errc::invalid_argument, "an empty AsyncResult (default-constructed) has no task");
  }
  return *state_;
}

bool AsyncResult::ready() const {
  return state().ready();
}

bool AsyncResult::wait(std::chrono::milliseconds timeout) const {
  return state().wait(timeout);
}

int AsyncResult::engine_id() const {
  return state().engine_id();
}

}  // namespace cannery
