#pragma once
// ObjectRef: a handle to an object cached on the engines (Controller::put).
//
// Copies share one handle. Used as a top-level argument of apply / broadcast
// (not inside a container, nor as a map's range) it is canned as
// ["cannery.ref", id] (protocol::RefArgument), and the engine substitutes the
// cached object. When the last copy is dropped, the controller tells every
// engine that holds the object to release it (after the tasks that use it
// have ended).

#include <cstddef>
#include <cstdint>
#include <memory>

#include "cannery/canning/canner.hpp"
#include "cannery/canning/writer.hpp"
#include "cannery/messaging/protocol.hpp"

namespace cannery {

namespace detail {

class AutoPuts;

// Implemented by the controller's core; a dropped ref reaches it through this.
class RefReleaser {
 public:
  virtual ~RefReleaser() = default;
  virtual void drop_ref(std::uint64_t id) noexcept = 0;
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
  const std::size_t nbytes;
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
  std::size_t nbytes() const noexcept { return handle_ ? handle_->nbytes : 0; }
  explicit operator bool() const noexcept { return handle_ != nullptr; }
  // Copies of this ref alive on the controller.
  long use_count() const noexcept { return handle_.use_count(); }

 private:
  friend class detail::AutoPuts;  // keeps weak handles to the refs it made
  std::shared_ptr<const detail::RefHandle> handle_;
};

template <>
struct canner<ObjectRef> {
  static void can(Writer& w, const ObjectRef& ref) { w.write(protocol::RefArgument{ref.id()}); }
};

}  // namespace cannery
