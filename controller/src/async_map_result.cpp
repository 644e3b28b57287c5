// AsyncMapResult, including wait_interactive's progress bar.
#include "cannery/controller/async_map_result.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cannery/canning/error.hpp"

namespace cannery {
namespace {

constexpr std::size_t bar_width = 40;
constexpr auto redraw_every = std::chrono::milliseconds(100);

// Only the standard streams can be asked whether they are a terminal.
bool is_terminal(const std::ostream& out) {
  if (&out == &std::cerr || &out == &std::clog) return ::isatty(STDERR_FILENO) != 0;
  if (&out == &std::cout) return ::isatty(STDOUT_FILENO) != 0;
  return false;
}

std::string seconds_text(std::chrono::steady_clock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", std::chrono::duration<double>(d).count());
  return text;
}

// "[##########..........] 12/40 tasks done  1.2s"
std::string progress_line(const MapProgress& p, std::chrono::steady_clock::duration elapsed) {
  const std::size_t filled = p.total == 0 ? bar_width : bar_width * p.done / p.total;
  return "[" + std::string(filled, '#') + std::string(bar_width - filled, '.') + "] " +
         std::to_string(p.done) + "/" + std::to_string(p.total) + " done  " + seconds_text(elapsed);
}

}  // namespace

const detail::MapState& AsyncMapResult::state() const {
  if (!state_) {
    throw error(errc::invalid_argument, "an empty AsyncMapResult (default-constructed) has no map");
  }
  return *state_;
}

bool AsyncMapResult::ready() const {
  return state().ready();
}

bool AsyncMapResult::wait(std::chrono::milliseconds timeout) const {
  return state().wait(timeout);
}

MapProgress AsyncMapResult::progress() const {
  return state().progress();
}

bool AsyncMapResult::wait_interactive(std::ostream& out, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool terminal = is_terminal(out);
  bool done = false;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const auto step = std::min<std::chrono::steady_clock::duration>(redraw_every, deadline - now);
    done = wait(std::chrono::ceil<std::chrono::milliseconds>(
        std::max<std::chrono::steady_clock::duration>(step, {})));
    if (done || std::chrono::steady_clock::now() >= deadline) break;
    if (terminal) out << '\r' << progress_line(progress(), now - state().started()) << std::flush;
  }
  const auto elapsed = std::chrono::steady_clock::now() - state().started();
  if (terminal) out << '\r';
  out << progress_line(progress(), elapsed) << (done ? "" : "  (still running)") << '\n'
      << std::flush;
  return done;
}

}  // namespace cannery
