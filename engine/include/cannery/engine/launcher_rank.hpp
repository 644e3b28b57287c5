#pragma once
// An engine's rank among the processes a launcher started together, read
// from the variables Open MPI (OMPI_COMM_WORLD_RANK), MPICH and other PMI
// launchers (PMI_RANK, PMIX_RANK) and Slurm's srun (SLURM_PROCID) set.
// cannery-engine sends it at registration; the controller's engines() shows it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cannery {

struct LauncherRank {
  std::int64_t rank = 0;
  std::string variable;  // the one it was read from
};

// The first of those variables that is set, in the order above; nullopt when
// none is. Throws cannery::error(invalid_argument) naming the variable when
// its value is not a whole number from 0 up.
std::optional<LauncherRank> launcher_rank();

// The same over a lookup of variables (std::getenv for launcher_rank()).
std::optional<LauncherRank> launcher_rank(const char* (*lookup)(const char* name));

}  // namespace cannery
