// An engine's data socket answers only messages signed with the cluster's
// key: garbage and requests signed with another key get no answer and are
// counted as refused; a signed request gets the object (or found = false).

#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/session.hpp>
#include <vector>
#include <zmq.hpp>

#include "../cluster/cluster_fixture.hpp"
#include "dataplane_support.hpp"

using namespace std::chrono_literals;
namespace proto = cannery::protocol;

namespace {

using cannery::test::session_with_key;

std::uint64_t refused(cannery::Controller& controller, int engine) {
  return cannery::test::engine_counters(controller, engine).at("refused_messages");
}

}  // namespace

TEST_CASE("an engine's data socket refuses unsigned and foreign requests and serves signed ones",
          "[dataplane]") {
  cannery::test::Cluster cluster(1);
  cannery::Controller& controller = cluster.controller;
  const cannery::EngineInfo engine = controller.engines().front();
  INFO(engine.data_endpoint);
  REQUIRE(engine.data_endpoint.rfind("tcp://127.0.0.1:", 0) == 0);
  cannery::ApplyOptions keep;
  keep.keep_result = true;
  const auto ref = controller.apply_with(keep, engine.id, "ramp", std::int64_t{1000})
                       .get<cannery::ObjectRef>(30s);

  zmq::context_t context;
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(engine.data_endpoint);
  cannery::Session foreign = session_with_key("not-the-cluster-key");
  const std::uint64_t refused_before = refused(controller, engine.id);

  // Garbage, then a request signed with another key: no answer to either.
  dealer.send(zmq::str_buffer("hello"), zmq::send_flags::none);
  foreign.send(dealer, proto::make_message(foreign, proto::ObjectRequest{ref.id()}));
  zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
  CHECK(zmq::poll(&item, 1, 500ms) == 0);
  std::uint64_t refused_now = refused_before;
  for (int i = 0; i < 50 && refused_now < refused_before + 2; ++i) {
    std::this_thread::sleep_for(100ms);
    refused_now = refused(controller, engine.id);
  }
  CHECK(refused_now >= refused_before + 2);

  // Signed: the object, as cached.
  const std::string key = controller.connection_info().key;
  std::optional<cannery::Message> reply =
      cannery::test::ask_for_object(engine.data_endpoint, key, ref.id());
  REQUIRE(reply);
  const auto answer = proto::decode<proto::ObjectReply>(*reply);
  CHECK(answer.ref == ref.id());
  CHECK(answer.found);
  const auto values = cannery::deserialize_object<std::vector<double>>(reply->buffers).value;
  REQUIRE(values.size() == 1000);
  CHECK(values[999] == 999.0);

  // A ref it does not hold: found is false, no buffers.
  reply = cannery::test::ask_for_object(engine.data_endpoint, key, ref.id() + 1000);
  REQUIRE(reply);
  CHECK_FALSE(proto::decode<proto::ObjectReply>(*reply).found);
  CHECK(reply->buffers.empty());
}
