#pragma once
// Load-balancing schemes: which of the engines with room gets the next task.

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

#include "cannery/controller/options.hpp"

namespace cannery::detail {

struct Candidate {
  int id;
  std::size_t in_flight;
  std::uint64_t last_assigned;  // sequence number of its latest task; 0 = never
  bool data_plane = false;      // has a data socket
};

// Index into `candidates` (not empty).
std::size_t pick_engine(Scheme scheme, std::span<const Candidate> candidates, std::mt19937_64& rng);

}  // namespace cannery::detail
