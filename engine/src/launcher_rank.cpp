#include "cannery/engine/launcher_rank.hpp"

#include <array>
#include <charconv>
#include <cstdlib>

#include "cannery/canning/error.hpp"

namespace cannery {

std::optional<LauncherRank> launcher_rank(const char* (*lookup)(const char* name)) {
  constexpr std::array<const char*, 4> variables{"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK",
                                                 "SLURM_PROCID"};
  for (const char* variable : variables) {
    const char* value = lookup(variable);
    if (value == nullptr) continue;
    const std::string_view text(value);
    std::int64_t rank = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rank);
    if (ec != std::errc{} || end != text.data() + text.size() || rank < 0) {
      throw error(errc::invalid_argument,
                  std::string(variable) + " is '" + std::string(text.substr(0, 32)) +
                      "', not a rank (a whole number from 0); unset it, or start the engine "
                      "with the launcher that sets it");
    }
    return LauncherRank{rank, variable};
  }
  return std::nullopt;
}

std::optional<LauncherRank> launcher_rank() {
  return launcher_rank([](const char* name) -> const char* { return std::getenv(name); });
}

}  // namespace cannery
