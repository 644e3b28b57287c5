#include "scheduler.hpp"

namespace cannery::detail {
namespace {

std::size_t least_recent(std::span<const Candidate> c) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < c.size(); ++i)
    if (c[i].last_assigned < c[best].last_assigned) best = i;
  return best;
}

}  // namespace

std::size_t pick_engine(Scheme scheme, std::span<const Candidate> c, std::mt19937_64& rng) {
  if (c.size() == 1) return 0;
  switch (scheme) {
    case Scheme::leastload: {
      // Ties go to the least recently used, so idle engines share work evenly.
      std::size_t best = 0;
      for (std::size_t i = 1; i < c.size(); ++i) {
        if (c[i].in_flight < c[best].in_flight ||
            (c[i].in_flight == c[best].in_flight && c[i].last_assigned < c[best].last_assigned))
          best = i;
      }
      return best;
    }
    case Scheme::lru:
      return least_recent(c);
    case Scheme::twobin: {
      std::uniform_int_distribution<std::size_t> any(0, c.size() - 1);
      std::size_t a = any(rng);
      std::uniform_int_distribution<std::size_t> other(0, c.size() - 2);
      std::size_t b = other(rng);
      if (b >= a) ++b;  // two distinct engines
      return c[a].last_assigned <= c[b].last_assigned ? a : b;
    }
    case Scheme::random:
      return std::uniform_int_distribution<std::size_t>(0, c.size() - 1)(rng);
  }
  return 0;
}

}  // namespace cannery::detail
