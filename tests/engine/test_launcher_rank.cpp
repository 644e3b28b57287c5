// launcher_rank: an engine's rank read from the variables MPI and Slurm set.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "cannery/engine/launcher_rank.hpp"
#include "test_support.hpp"

namespace {

// The variables a lookup sees, set by each test.
std::map<std::string, std::string> variables;

const char* lookup(const char* name) {
  auto it = variables.find(name);
  return it == variables.end() ? nullptr : it->second.c_str();
}

}  // namespace

TEST_CASE("launcher_rank reads the first rank variable a launcher set", "[engine]") {
  variables = {};
  CHECK_FALSE(cannery::launcher_rank(lookup).has_value());

  variables = {{"SLURM_PROCID", "12"}};
  auto rank = cannery::launcher_rank(lookup);
  REQUIRE(rank);
  CHECK(rank->rank == 12);
  CHECK(rank->variable == "SLURM_PROCID");

  // mpiexec inside a Slurm allocation: MPI's rank is the engine's.
  variables = {{"SLURM_PROCID", "0"}, {"OMPI_COMM_WORLD_RANK", "3"}, {"PMI_RANK", "9"}};
  rank = cannery::launcher_rank(lookup);
  REQUIRE(rank);
  CHECK(rank->rank == 3);
  CHECK(rank->variable == "OMPI_COMM_WORLD_RANK");

  variables = {{"PMIX_RANK", "7"}};
  CHECK(cannery::launcher_rank(lookup)->variable == "PMIX_RANK");
}

TEST_CASE("launcher_rank refuses a variable that holds no rank, naming it", "[engine]") {
  for (const char* value : {"", "x", "-1", "3.5", "12 ", "99999999999999999999"}) {
    INFO(value);
    variables = {{"PMI_RANK", value}};
    const cannery::error e = cannery::test::capture_error([] { cannery::launcher_rank(lookup); });
    CHECK(e.code() == cannery::errc::invalid_argument);
    CHECK_THAT(e.message(), Catch::Contains("PMI_RANK is '"));
  }
}
