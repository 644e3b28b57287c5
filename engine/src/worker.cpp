#include "worker.hpp"

#include <utility>

namespace cannery::detail {

Worker::Worker(zmq::context_t& context, std::string wake_endpoint, Handler handler)
    : handler_(std::move(handler)),
      thread_([this, &context, endpoint = std::move(wake_endpoint)] { main(context, endpoint); }) {}

Worker::~Worker() {
  stop();
}

void Worker::submit(Message request) {
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  wake_worker_.notify_one();
}

std::vector<Reply> Worker::take_replies() {
  std::lock_guard lock(mutex_);
  return std::exchange(replies_, {});
}

void Worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    requests_.clear();
  }
  wake_worker_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Worker::main(zmq::context_t& context, const std::string& wake_endpoint) {
  zmq::socket_t wake(context, zmq::socket_type::pair);
  wake.set(zmq::sockopt::linger, 0);
  wake.connect(wake_endpoint);
  for (;;) {
    Message request;
    {
      std::unique_lock lock(mutex_);
      wake_worker_.wait(lock, [&] { return stopping_ || !requests_.empty(); });
      if (stopping_) return;
      request = std::move(requests_.front());
      requests_.pop_front();
    }
    // The handler turns every failure of a request into an error reply; only
    // running out of memory while making one can get here.
    std::optional<Reply> reply;
    try {
      reply = handler_(request);
    } catch (...) {
    }
    // Free the request's frames here rather than with the next one.
    request = Message{};
    if (!reply) continue;
    {
      std::lock_guard lock(mutex_);
      replies_.push_back(std::move(*reply));
    }
    // Only a wake-up: if the PAIR is full, the I/O thread is already due to
    // look at the queue.
    (void)wake.send(zmq::message_t(), zmq::send_flags::dontwait);
  }
}

}  // namespace cannery::detail
