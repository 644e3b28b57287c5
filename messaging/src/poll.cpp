#include "cannery/messaging/detail/poll.hpp"

#include <cerrno>

namespace cannery::detail {

int poll(std::span<zmq::pollitem_t> items, std::chrono::milliseconds timeout) {
  try {
    return zmq::poll(items.data(), items.size(), timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    for (zmq::pollitem_t& item : items)
      item.revents = 0;
    return 0;
  }
}

}  // namespace cannery::detail
