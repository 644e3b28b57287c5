#pragma once
// This machine's host name, as engines report theirs (gethostname), and the
// process's open-file limit.

#include <cstdint>
#include <string>

namespace cannery::detail {

std::string this_hostname();

// Raises this process's soft limit on open files to its hard limit (each
// engine costs the controller two connections, and idle connections from
// anyone cost one each); returns the soft limit in force afterwards.
std::uint64_t raise_open_file_limit() noexcept;

}  // namespace cannery::detail
