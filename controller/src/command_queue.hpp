#pragma once
// Commands from user threads to the controller's I/O thread.
//
// zmq sockets are not thread-safe, so only the I/O thread touches the ROUTER;
// every other thread appends a command here. The I/O thread sleeps in
// zmq_poll on the ROUTER and on a wake-up descriptor, which a producer
// signals only when the queue goes from idle to busy, so a burst of
// submissions costs one wake-up. Tasks count as pending from here until dispatched to an
// engine (or ended); producers block while max_pending are pending.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "cannery/controller/detail/submission.hpp"
#include "cannery/controller/engine_info.hpp"
#include "cannery/messaging/detail/wake_fd.hpp"
#include "cannery/messaging/shared_memory.hpp"

namespace cannery::detail {

struct AddRefCommand {
  std::uint64_t id;
  std::vector<Buffer> frames;
  std::shared_ptr<const SharedFrames> shared;  // null: the frames go over the socket
  std::string segment_failure;                 // why there is none, when it was tried
};
struct DropRefCommand {
  std::uint64_t id;
};
struct QueryCommand {
  std::promise<std::vector<EngineInfo>> reply;
};
struct ShutdownCommand {
  std::vector<int> pids;  // engines on this host with these pids; empty: all engines
  bool all = false;
  std::promise<void> done;
};
using Command =
    std::variant<Submission, AddRefCommand, DropRefCommand, QueryCommand, ShutdownCommand>;

class CommandQueue {
 public:
  explicit CommandQueue(std::size_t max_pending);
  ~CommandQueue();
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  // What the I/O thread polls.
  int wake_fd() const noexcept { return wake_.fd(); }

  // Appends (moves in) the tasks in order, blocking while max_pending tasks are pending.
  // Throws cannery::error once the queue is closed.
  void push_tasks(std::span<Submission> tasks);
  // Appends any other command; false once closed (the command is dropped).
  bool push(Command command);

  // I/O thread: everything queued so far, in order.
  void take(std::vector<Command>& out);
  // I/O thread: `n` pending tasks were dispatched or ended.
  void release(std::size_t n);
  // Wakes blocked producers; later pushes fail.
  void close();

 private:
  void wake_locked();

  const std::size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable room_;
  std::vector<Command> commands_;
  std::size_t pending_ = 0;
  bool wake_pending_ = false;
  bool closed_ = false;
  WakeFd wake_;
};

}  // namespace cannery::detail
