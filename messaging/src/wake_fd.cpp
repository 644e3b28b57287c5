#include "cannery/messaging/detail/wake_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "cannery/canning/error.hpp"

namespace cannery::detail {

WakeFd::WakeFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) {
    throw error(errc::io_error, std::string("could not create a wake-up descriptor (eventfd): ") +
                                    std::strerror(errno) +
                                    "; raise the open-file limit (ulimit -n)");
  }
}

WakeFd::~WakeFd() {
  ::close(fd_);
}

void WakeFd::notify() noexcept {
  const std::uint64_t one = 1;
  // Fails only when the counter is near 2^64: it is readable then anyway.
  [[maybe_unused]] auto written = ::write(fd_, &one, sizeof one);
}

void WakeFd::clear() noexcept {
  std::uint64_t count = 0;
  [[maybe_unused]] auto read = ::read(fd_, &count, sizeof count);
}

}  // namespace cannery::detail
