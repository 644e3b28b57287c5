#pragma once
// How long the controller's waits (AsyncResult::get, ObjectRef::get, ...) last
// when not told.

#include <chrono>

namespace cannery {

// Long, but not forever.
inline constexpr std::chrono::milliseconds default_wait_timeout = std::chrono::hours(1);

}  // namespace cannery
