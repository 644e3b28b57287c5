#pragma once
// Where the controller's I/O thread delivers the end of a task. One sink can
// collect many tasks (a map's chunks), told apart by `slot`. Each slot ends
// exactly once: the I/O thread removes a task from its tables before calling.

#include <cstddef>
#include <exception>
#include <vector>

#include "cannery/canning/buffer.hpp"

namespace cannery::detail {

class TaskSink {
 public:
  virtual ~TaskSink() = default;
  // The task was handed to engine `engine_id` (again, after a retry).
  virtual void dispatched(std::size_t /*slot*/, int /*engine_id*/) noexcept {}
  // The reply's buffers: one canned object.
  virtual void succeed(std::size_t slot, int engine_id, std::vector<Buffer> frames) noexcept = 0;
  virtual void fail(std::size_t slot, std::exception_ptr error) noexcept = 0;
  // The request's frames, no longer needed (called once, before succeed or
  // fail). They were made on the caller's thread: a sink the caller holds can
  // keep them so that they are freed there too, where malloc takes them back
  // cheaply, not on the I/O thread. By default they go at once.
  virtual void retire(std::vector<Buffer> /*request_frames*/) noexcept {}
};

}  // namespace cannery::detail
