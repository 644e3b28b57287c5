#pragma once
// The receiving end of a relayed put (docs/protocol.md, "Relayed puts"):
// pieces asked for from a source engine (or the controller) a window at a
// time, written into an Arrival that this engine's data socket serves from
// meanwhile, with the next source of the fetch_request tried when one stops
// answering. An engine that sees its source's /dev/shm maps the object
// instead.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "arrivals.hpp"
#include "cannery/canning/buffer.hpp"
#include "cannery/canning/options.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/session.hpp"
#include "data_plane.hpp"

namespace cannery::detail {

struct RelaySetup {
  zmq::context_t* context = nullptr;
  Session* session = nullptr;    // the calling thread's
  Arrivals* arrivals = nullptr;  // this engine's, served by its data socket
  // Where this engine reached the controller: the controller's relay socket
  // (source engine -1) is on that host.
  std::string controller_endpoint;
  std::optional<DataCurve> curve;  // when the cluster uses CURVE
  // This process's /dev/shm (shm_domain()), when it may share objects there.
  std::optional<std::string> shm_domain;
  std::int64_t max_frame_bytes = 0;
  Limits limits;
  // A source that sends nothing for this long is given up for the next.
  std::chrono::milliseconds stall_timeout{5'000};
  std::uint64_t piece_bytes = std::uint64_t{1} << 20;
  std::size_t window = 8;  // pieces asked for and not yet received
};

struct RelayFetched {
  std::vector<Buffer> frames;
  std::uint64_t from_engines = 0;           // bytes
  std::uint64_t from_controller = 0;        // bytes
  std::uint64_t through_shared_memory = 0;  // bytes mapped, not moved
};

// Fetches the relayed object `request` names (its frame_sizes set), checked
// to hold one well-formed object. Throws cannery::error(object_lost) saying
// what each source did when no source gave all of it.
RelayFetched relay_fetch(const protocol::FetchRequest& request, const RelaySetup& setup);

}  // namespace cannery::detail
