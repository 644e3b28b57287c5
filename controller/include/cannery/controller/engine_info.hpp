#pragma once
// What the controller knows about one engine.

#include <cstddef>
#include <string>
#include <vector>

namespace cannery {

struct EngineInfo {
  int id = -1;           // the controller's number for it, stable across re-registration
  std::string uuid;      // the engine's own identity
  int pid = 0;           // process id on its host
  std::string hostname;  // host it runs on
  // Its rank among the processes its launcher started (MPI, Slurm:
  // launcher_rank() in the engine); -1 when it reported none.
  long long rank = -1;
  std::vector<std::string> functions;  // what it can run
  std::size_t in_flight = 0;           // tasks sent and not yet answered
  bool alive = false;                  // registered and heard from recently
  bool shared_memory = false;          // sees this controller's /dev/shm: put() frames go that way
  // Its data socket, from which other engines fetch the results it keeps
  // (empty: it has none, and takes no keep_result task).
  std::string data_endpoint;
  std::size_t registrations = 0;  // registration_requests accepted from it (1: never lost)
  // How large frames to and from it are compressed: "none", or a codec (or
  // "auto") of ControllerOptions::compression, on a tcp link to another host.
  std::string compression = "none";
};

}  // namespace cannery
