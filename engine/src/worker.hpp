#pragma once
// The worker thread: runs requests one at a time in arrival order, so that
// the I/O thread stays free for heartbeats during a long task. Replies go
// into a queue, and a zero-byte message on an inproc PAIR wakes the I/O
// thread's poll (the worker's end of the PAIR lives on the worker thread).

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cannery/messaging/session.hpp"
#include "reply.hpp"

namespace cannery::detail {

class Worker {
 public:
  using Handler = std::function<std::optional<Reply>(const Message&)>;

  // `wake_endpoint` is an inproc endpoint already bound by a PAIR in `context`.
  Worker(zmq::context_t& context, std::string wake_endpoint, Handler handler);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void submit(Message request);
  // Replies made since the last call, in order.
  std::vector<Reply> take_replies();
  // Drops requests not yet started, waits for the running one, ends the thread.
  void stop();

 private:
  void main(zmq::context_t& context, const std::string& wake_endpoint);

  Handler handler_;
  std::mutex mutex_;
  std::condition_variable wake_worker_;
  std::deque<Message> requests_;
  std::vector<Reply> replies_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cannery::detail
