#pragma once
// EngineOptions::work_nice: run()'s thread, which runs the functions, at a
// lower priority than the engine's other threads. Linux gives each thread its
// own nice value, so the heart and libzmq threads, started before, keep
// theirs: heartbeats are answered on time however busy the work is.

#include <optional>
#include <string>

namespace cannery::detail {

// Adds `increment` (1 to 19) to the calling thread's nice value, which the
// kernel caps at 19. What went wrong, if anything.
std::optional<std::string> lower_this_thread_priority(int increment);

}  // namespace cannery::detail
