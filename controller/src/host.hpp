#pragma once
// This machine's host name, as engines report theirs (gethostname).

#include <string>

namespace cannery::detail {

std::string this_hostname();

}  // namespace cannery::detail
