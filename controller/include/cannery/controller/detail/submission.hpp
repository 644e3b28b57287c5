#pragma once
// What Controller's templates hand to the controller's I/O thread: one task,
// fully canned, plus how to schedule it and where its end goes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "cannery/canning/apply.hpp"
#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/controller/detail/task_sink.hpp"
#include "cannery/controller/object_ref.hpp"
#include "cannery/controller/options.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery::detail {

// The request a task sends; its task id is filled in when sent.
using WorkRequest = std::variant<protocol::ApplyRequest, protocol::MapRequest,
                                 protocol::PushRequest, protocol::PullRequest>;

struct Submission {
  WorkRequest request;
  // The request's buffers. Never borrowed: see owned_frames.
  std::vector<Buffer> frames;
  // Cached objects the frames refer to; sent to the engine first if needed.
  std::vector<std::uint64_t> refs;
  // The refs put for this task's large arguments by value
  // (ControllerOptions::auto_put_min_bytes), held until the task ends and
  // dropped before its end is told, so that a caller who saw every task
  // given an object end never has that object's old copy reused.
  std::vector<ObjectRef> held;
  // The function called (apply, broadcast), for messages about its result.
  std::string function;
  // Its result is kept on the engine under this ref (ApplyRequest::keep_as).
  std::optional<std::uint64_t> keep_as;
  int target = -1;  // engine id, or any_engine
  Scheme scheme = Scheme::leastload;
  int retries = 0;
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::shared_ptr<TaskSink> sink;
  std::size_t slot = 0;
};

// The frames of an lvalue argument borrow the caller's memory, which may be
// gone before the queued message is sent: such frames are copied once, here.
// Frames canned from rvalues own their memory and stay zero copy.
std::vector<Buffer> owned_frames(std::vector<Buffer> frames);

std::optional<std::chrono::steady_clock::time_point> deadline_after(
    const std::optional<std::chrono::milliseconds>& timeout);

// The ObjectRefs among call arguments (positional or kw("name", ref)).
template <class A>
void collect_ref(std::vector<std::uint64_t>& out, const A& arg) {
  using U = std::remove_cvref_t<A>;
  if constexpr (std::is_same_v<U, ObjectRef>) {
    if (arg) out.push_back(arg.id());
  } else if constexpr (is_kwarg<U>::value) {
    collect_ref(out, arg.value);
  }
}

template <class... Args>
std::vector<std::uint64_t> collect_refs(const Args&... args) {
  std::vector<std::uint64_t> out;
  (collect_ref(out, args), ...);
  return out;
}

}  // namespace cannery::detail
