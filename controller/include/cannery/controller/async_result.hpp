#pragma once
// AsyncResult: the future of one task (apply, a broadcast's share, push, pull).

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cannery/canning/object.hpp"
#include "cannery/canning/serialize.hpp"
#include "cannery/controller/detail/completion.hpp"
#include "cannery/controller/detail/task_sink.hpp"
#include "cannery/controller/object_ref.hpp"
#include "cannery/controller/wait.hpp"

namespace cannery {

namespace detail {

class TaskState final : public TaskSink {
 public:
  // `spin`: how long wait() spins before it sleeps (ControllerOptions::wait_spin).
  explicit TaskState(std::chrono::microseconds spin = {}) noexcept : completion_(spin) {}

  void dispatched(std::size_t slot, int engine_id) noexcept override;
  void succeed(std::size_t slot, int engine_id, std::vector<Buffer> frames) noexcept override;
  void fail(std::size_t slot, TaskFailure why) noexcept override;
  // Keeps small request frames, to be freed with this state on the caller's
  // side; large ones go now, so that a result kept long does not keep its
  // arguments (malloc hands large blocks back to the system whichever thread
  // frees them).
  void retire(std::vector<Buffer> request_frames) noexcept override;

  bool ready() const noexcept { return completion_.settled(); }
  bool wait(std::chrono::milliseconds timeout) const { return completion_.wait(timeout); }
  // After a successful wait: the reply's frames, or the failure rethrown.
  std::span<const Buffer> frames_or_throw() const;
  int engine_id() const noexcept { return engine_id_.load(std::memory_order_acquire); }

  // A task that keeps its result on its engine (ApplyOptions::keep_result)
  // holds the ref to it from submission.
  void keep(std::shared_ptr<const RefHandle> handle) noexcept { kept_ = std::move(handle); }
  // After a successful wait: the kept result's ref, its size read from the
  // reply. Throws invalid_argument for a task that kept nothing.
  ObjectRef kept_ref() const;

 private:
  Completion completion_;
  std::vector<Buffer> frames_;
  std::vector<Buffer> retired_;  // written once by the I/O thread, never read
  std::optional<TaskFailure> failure_;
  std::atomic<int> engine_id_{-1};
  std::shared_ptr<const RefHandle> kept_;
};

[[noreturn]] void throw_wait_timeout(std::chrono::milliseconds timeout, const char* what);

}  // namespace detail

class AsyncResult {
 public:
  AsyncResult() = default;
  explicit AsyncResult(std::shared_ptr<detail::TaskState> state) : state_(std::move(state)) {}

  // Whether the task has ended (result, error, engine death or timeout).
  bool ready() const;
  // Waits up to `timeout`; true when the task has ended.
  bool wait(std::chrono::milliseconds timeout) const;

  // The result uncanned as T (cannery::Object by default). Views (spans,
  // Eigen::Map, NDArray) point into the received frames, which live as long as
  // this AsyncResult or a copy of it. Throws RemoteError, EngineDied, or
  // cannery::error(timeout) for a task timeout or when `timeout` passes first
  // (the task then keeps running; get() can be called again).
  template <class T = Object>
  T get(std::chrono::milliseconds timeout = default_wait_timeout) const {
    if (!wait(timeout)) detail::throw_wait_timeout(timeout, "the task's result");
    std::span<const Buffer> frames = state().frames_or_throw();
    if constexpr (std::is_same_v<T, ObjectRef>) {
      return state().kept_ref();
    } else if constexpr (std::is_same_v<T, Object>) {
      return deserialize_object(frames).value;
    } else {
      return deserialize_object<T>(frames).value;
    }
  }

  // The engine the task went to (its latest attempt); -1 while still queued.
  int engine_id() const;

  bool valid() const noexcept { return state_ != nullptr; }

 private:
  const detail::TaskState& state() const;
  std::shared_ptr<detail::TaskState> state_;
};

template <class T>
T ObjectRef::get(std::chrono::milliseconds timeout) const {
  return fetch().get<T>(timeout);
}

}  // namespace cannery
