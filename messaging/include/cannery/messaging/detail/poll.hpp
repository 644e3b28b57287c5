#pragma once
// zmq::poll for loops that wait again. A signal the program handles (a
// timer, a child's end, a profiler's tick) lands on whichever of its threads
// does not block it, cannery's own threads included, and interrupts the
// system call waiting there: cppzmq throws zmq::error_t for that (EINTR),
// which used to end the controller's I/O thread or a heart thread.

#include <chrono>
#include <span>
#include <zmq.hpp>

namespace cannery::detail {

// How many items are ready: 0 after the timeout, and after an interruption
// by a signal (every revents cleared), so the caller's loop waits again.
// Other failures throw zmq::error_t, as zmq::poll does.
int poll(std::span<zmq::pollitem_t> items, std::chrono::milliseconds timeout);

}  // namespace cannery::detail
