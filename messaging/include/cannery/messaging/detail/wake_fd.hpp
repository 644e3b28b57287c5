#pragma once
// A file descriptor that a thread sleeping in zmq_poll can be woken through
// (an eventfd): zmq sockets are not thread-safe, so the threads that own one
// are told about news this way instead of through the socket.

namespace cannery::detail {

class WakeFd {
 public:
  // Throws cannery::error(io_error) when the kernel gives no descriptor.
  WakeFd();
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  // What to poll for ZMQ_POLLIN.
  int fd() const noexcept { return fd_; }
  // Makes fd() readable; any thread, never blocks. One write(), so a signal
  // handler may call it too.
  void notify() noexcept;
  // Makes it unreadable again; the polling thread, before it looks at the news.
  void clear() noexcept;

 private:
  int fd_ = -1;
};

}  // namespace cannery::detail
