#include "work_priority.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cannery::detail {

std::optional<std::string> lower_this_thread_priority(int increment) {
  // With PRIO_PROCESS, Linux takes a thread id and changes that thread only.
  const auto thread = static_cast<id_t>(::gettid());
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, thread);  // -1 is a valid nice value
  if (nice == -1 && errno != 0) return std::string("getpriority: ") + std::strerror(errno);
  if (::setpriority(PRIO_PROCESS, thread, std::min(nice + increment, 19)) != 0)
    return std::string("setpriority: ") + std::strerror(errno);
  return std::nullopt;
}

}  // namespace cannery::detail
