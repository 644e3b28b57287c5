#pragma once
// ObjectRef: a handle to an object cached on the engines: put there by the
// controller (Controller::put), or a task's result kept on its engine
// (ApplyOptions::keep_result).
//
// Copies share one handle. Used as a top-level argument of apply / broadcast
// (not inside a container, nor as a map's range) it is canned as
// ["cannery.ref", id] (protocol::RefArgument), and the engine substitutes the
// cached object. When the last copy is dropped, the controller tells every
// engine that holds the object to release it (after the tasks that use it
// have ended).
//
// get<T>() brings the object to the controller (defined in async_result.hpp):
//
//   cannery::ApplyOptions keep;
//   keep.keep_result = true;
//   cannery::AsyncResult made =
//       controller.apply_with(keep, cannery::any_engine, "ramp", std::int64_t{1000});
//   cannery::ObjectRef ramp = made.get<cannery::ObjectRef>();  // ramp.nbytes(): its size there
//   double total = controller.apply(cannery::any_engine, "sum", ramp).get<double>();  // 499500
//   std::vector<double> values = ramp.get<std::vector<double>>();  // brought here

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "cannery/canning/canner.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/canning/writer.hpp"
#include "cannery/controller/stats.hpp"
#include "cannery/controller/wait.hpp"
#include "cannery/messaging/protocol.hpp"

namespace cannery {

class AsyncResult;
class ObjectRef;

namespace detail {

class AutoPuts;
class TaskState;

// Implemented by the controller's core; a dropped ref reaches it through this.
class RefReleaser {
 public:
  virtual ~RefReleaser() = default;
  virtual void drop_ref(std::uint64_t id) noexcept = 0;
  // Submits a task that answers with the object of `ref`.
  virtual std::shared_ptr<TaskState> fetch_ref(const ObjectRef& ref) = 0;
  virtual RefStats ref_stats(std::uint64_t id) const = 0;
};

struct RefHandle {
  RefHandle(std::uint64_t ref_id, std::size_t size, std::weak_ptr<RefReleaser> owner)
      : id(ref_id), nbytes(size), releaser(std::move(owner)) {}
  RefHandle(const RefHandle&) = delete;
  RefHandle& operator=(const RefHandle&) = delete;
  ~RefHandle() {
    // A controller that is gone has nothing left to release.
    if (auto r = releaser.lock()) r->drop_ref(id);
  }
  const std::uint64_t id;
  // Known when made for a put; for a kept result, once its task has ended.
  mutable std::atomic<std::size_t> nbytes;
  std::weak_ptr<RefReleaser> releaser;
};

}  // namespace detail

class ObjectRef {
 public:
  ObjectRef() = default;
  explicit ObjectRef(std::shared_ptr<const detail::RefHandle> handle)
      : handle_(std::move(handle)) {}

  // 0 for an empty ref.
  std::uint64_t id() const noexcept { return handle_ ? handle_->id : 0; }
  // Bytes of the canned object's frames (what each engine receives once).
  std::size_t nbytes() const noexcept {
    return handle_ ? handle_->nbytes.load(std::memory_order_relaxed) : 0;
  }
  explicit operator bool() const noexcept { return handle_ != nullptr; }
  // Copies of this ref alive on the controller.
  long use_count() const noexcept { return handle_.use_count(); }

  // The object, brought to the controller by a task on an engine that holds
  // it. get<T>() waits for it and uncans it as T, which must own its data
  // (views need the frames: keep fetch()'s AsyncResult and call get on it).
  // Throws ObjectLost when no engine holds it any more.
  AsyncResult fetch() const;
  template <class T = Object>
  T get(std::chrono::milliseconds timeout = default_wait_timeout) const;

  // How its object travelled so far: bytes the controller sent, bytes
  // engines passed on to one another (a relayed put). Zeros for an empty
  // ref or once its controller is gone.
  RefStats stats() const;

 private:
  friend class detail::AutoPuts;  // keeps weak handles to the refs it made
  std::shared_ptr<const detail::RefHandle> handle_;
};

template <>
struct canner<ObjectRef> {
  static void can(Writer& w, const ObjectRef& ref) { w.write(protocol::RefArgument{ref.id()}); }
};

}  // namespace cannery
