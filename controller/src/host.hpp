#pragma once
// This machine's host name, as engines report theirs (gethostname), the
// process's open-file limit and the CPUs it may run on.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cannery::detail {

std::string this_hostname();

// The addresses `name` resolves to here (numeric text); empty when it does
// not resolve.
std::vector<std::string> resolve_host(const std::string& name);

// The IPv4 addresses of this host's interfaces that are up.
std::vector<std::string> interface_addresses();

// Raises this process's soft limit on open files to its hard limit (each
// engine costs the controller two connections, and idle connections from
// anyone cost one each); returns the soft limit in force afterwards.
std::uint64_t raise_open_file_limit() noexcept;

// How many CPUs this process may run on (its affinity mask: taskset, a
// batch system's cpuset), at least 1.
std::size_t usable_cpus() noexcept;

}  // namespace cannery::detail
