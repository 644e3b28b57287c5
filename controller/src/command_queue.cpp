#include "command_queue.hpp"

#include <algorithm>

#include "cannery/canning/error.hpp"

namespace cannery::detail {

CommandQueue::CommandQueue(std::size_t max_pending) : max_pending_(max_pending) {
  if (max_pending_ == 0) {
    throw error(errc::invalid_argument, "ControllerOptions::max_pending must be at least 1");
  }
}

CommandQueue::~CommandQueue() = default;

void CommandQueue::wake_locked() {
  if (wake_pending_) return;
  wake_pending_ = true;
  wake_.notify();
}

void CommandQueue::push_tasks(std::span<Submission> tasks) {
  std::size_t next = 0;
  std::unique_lock lock(mutex_);
  while (next < tasks.size()) {
    room_.wait(lock, [&] { return closed_ || pending_ < max_pending_; });
    if (closed_) {
      throw error(errc::io_error, "the controller is shutting down; the task was not submitted");
    }
    // As many as fit, so a big map fills the room and wakes the I/O thread
    // once per batch rather than once per chunk.
    const std::size_t room = max_pending_ - pending_;
    const std::size_t end = std::min(tasks.size(), next + room);
    pending_ += end - next;
    for (; next < end; ++next)
      commands_.emplace_back(std::move(tasks[next]));
    wake_locked();
  }
}

bool CommandQueue::push(Command command) {
  std::lock_guard lock(mutex_);
  if (closed_) return false;
  commands_.push_back(std::move(command));
  wake_locked();
  return true;
}

void CommandQueue::take(std::vector<Command>& out) {
  wake_.clear();
  std::lock_guard lock(mutex_);
  out.swap(commands_);
  wake_pending_ = false;
}

void CommandQueue::release(std::size_t n) {
  if (n == 0) return;
  std::lock_guard lock(mutex_);
  const bool was_full = pending_ >= max_pending_;
  pending_ -= std::min(n, pending_);
  if (was_full) room_.notify_all();
}

void CommandQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  room_.notify_all();
  wake_.notify();
}

}  // namespace cannery::detail
