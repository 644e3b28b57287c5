// CURVE on the data plane: with a cluster that uses CURVE, relayed puts and
// kept results still move engine to engine, over encrypted connections; an
// engine's data socket does not talk to a client without CURVE, even one
// whose requests are signed with the cluster's key.

#include <cannery/messaging/curve.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"

using namespace std::chrono_literals;

namespace {

constexpr std::size_t curve_doubles =
    1'000'000;  // 8 MB of doubles: relayed (relay_min_bytes 4 MiB)

// Asks the data socket at `endpoint` for piece [0, 8) of `ref`, signed with
// `key`, as a CURVE client when `curve` is given: the reply, or nullopt
// when none came within 3 s.
std::optional<cannery::Message> ask_for_piece(const std::string& endpoint, const std::string& key,
                                              std::uint64_t ref,
                                              const cannery::CurveKeyPair* client,
                                              const std::string& server_key) {
  zmq::context_t context;
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  if (client != nullptr) cannery::make_curve_client(dealer, *client, server_key);
  dealer.connect(endpoint);
  cannery::Session session = cannery::test::session_with_key(key);
  session.send(dealer, cannery::protocol::make_message(
                           session, cannery::protocol::ChunkRequest{ref, 0, 8, std::nullopt}));
  return session.receive(dealer, std::chrono::seconds(3));
}

}  // namespace

TEST_CASE("with CURVE on the data plane is encrypted and still engine to engine", "[dataplane]") {
  cannery::test::TempDir dir;
  const cannery::CurveKeyPair server = cannery::generate_curve_keypair();
  const cannery::CurveKeyPair engine_keys = cannery::generate_curve_keypair();
  cannery::write_curve_keypair(dir / "engine", engine_keys);
  cannery::ControllerOptions options;
  options.curve_server = server;
  options.curve_allowed_engines = {engine_keys.public_key};
  cannery::Controller controller(options);
  cannery::EngineSpawnOptions spawn = cannery::test::engine_program();
  spawn.extra_args = {"--curve-key", (dir / "engine.key").string(), "--no-shared-memory"};
  controller.spawn_local_engines(3, spawn);
  controller.wait_for_engines(3, cannery::test::engine_start_timeout);

  // A relayed put: from the controller's relay socket, then engine to engine.
  std::vector<double> values(curve_doubles);
  std::iota(values.begin(), values.end(), 0.0);
  const cannery::ObjectRef ref = controller.put(std::move(values));
  for (cannery::AsyncResult& sum : controller.broadcast("sum", ref))
    CHECK(sum.get<double>(120s) == cannery::test::iota_sum(curve_doubles));
  CHECK(ref.stats().controller_bytes == ref.nbytes());
  CHECK(ref.stats().engine_bytes == 2 * ref.nbytes());

  // A kept result, fetched by another engine.
  const std::vector<int> ids = controller.engine_ids();
  cannery::ApplyOptions keep;
  keep.keep_result = true;
  const auto kept =
      controller.apply_with(keep, ids[0], "ramp", std::int64_t{1000}).get<cannery::ObjectRef>(60s);
  CHECK(controller.apply(ids[1], "sum", kept).get<double>(60s) == 499500.0);

  // Every engine holds the put now: a CURVE client that knows the data
  // socket's key is answered; the same request in the clear is not.
  std::string endpoint;
  for (const cannery::EngineInfo& e : controller.engines())
    if (e.id == ids[2]) endpoint = e.data_endpoint;
  REQUIRE(!endpoint.empty());
  const std::string key = controller.connection_info().key;
  const cannery::CurveKeyPair client = cannery::generate_curve_keypair();
  const auto encrypted = ask_for_piece(endpoint, key, ref.id(), &client, engine_keys.public_key);
  REQUIRE(encrypted);
  CHECK(cannery::protocol::decode<cannery::protocol::ChunkReply>(*encrypted).state ==
        cannery::protocol::ChunkState::data);
  CHECK_FALSE(ask_for_piece(endpoint, key, ref.id(), nullptr, ""));
}
