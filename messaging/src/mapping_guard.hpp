#pragma once
// Mappings of shared-memory segments that another process made. That process
// (or any process of the same user) can truncate the file under us, and the
// next read of a lost page would end this process with SIGBUS. Guarded
// mappings are listed in a fixed table that a SIGBUS handler reads: a fault
// inside one of them maps zeros over the whole segment in place of what was
// lost, marks it damaged, and the read goes on; readers then ask whether
// what they read was damaged. A fault anywhere else goes to the handler that
// was installed before (by default: the process ends, as it would have).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cannery::detail {

// The owner of a read-only mapping [data, data + size) of `segment`: it
// unmaps it when the last Buffer viewing it goes. Installs the handler on
// first use. Throws cannery::error(limit_exceeded) when the table is full.
std::shared_ptr<const void> guard_mapping(void* data, std::size_t size, std::string segment);

// The segment `owner` maps when it is a guarded mapping that was found
// truncated; nullopt otherwise.
std::optional<std::string> damaged_mapping(const std::shared_ptr<const void>& owner);
// Whether `owner` is a guarded mapping of a shared memory segment.
bool is_guarded_mapping(const std::shared_ptr<const void>& owner) noexcept;

// How many guarded mappings were found truncated since the process started.
std::uint64_t damaged_mappings() noexcept;

}  // namespace cannery::detail
