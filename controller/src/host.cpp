#include "host.hpp"

#include <unistd.h>

#include <array>

namespace cannery::detail {

std::string this_hostname() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "localhost";
  return name.data();
}

}  // namespace cannery::detail
