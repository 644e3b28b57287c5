// put_request through shared memory: the engine offers a probe (and the
// shared_memory capability) when it registers, maps the segment a put names,
// and refuses a descriptor that does not fit without caching anything.

#include <cannery/messaging/shared_array.hpp>
#include <cannery/messaging/shared_memory.hpp>
#include <numeric>

#include "scripted_controller.hpp"

namespace {

using namespace cannery::test;
namespace proto = cannery::protocol;
using cannery::Buffer;
using cannery::SharedFrames;
using cannery::protocol::RefArgument;

proto::PutRequest put_of(std::uint64_t ref, const SharedFrames& shared) {
  return {.ref = ref, .shared_memory = shared.descriptor()};
}

}  // namespace

TEST_CASE("an engine offers a shared memory probe unless told not to", "[engine][shared_memory]") {
  ScriptedController controller;
  {
    RunningEngine running(options_for(controller));
    running.start();
    const proto::RegistrationRequest request = controller.register_engine().content;
    REQUIRE(request.shared_memory);
    CHECK(cannery::shares_memory_with(*request.shared_memory));
    CHECK(proto::has_capability(request.capabilities, proto::capability::shared_memory));
    CHECK(proto::has_capability(request.capabilities, proto::capability::batches));
  }
  ScriptedController other;
  cannery::EngineOptions options = options_for(other);
  options.shared_memory = false;
  RunningEngine running(std::move(options));
  running.start();
  const proto::RegistrationRequest request = other.register_engine().content;
  CHECK_FALSE(request.shared_memory);
  CHECK_FALSE(proto::has_capability(request.capabilities, proto::capability::shared_memory));
  CHECK(proto::has_capability(request.capabilities, proto::capability::batches));
}

TEST_CASE("a put naming a segment is read from it in place", "[engine][shared_memory]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();

  const std::vector<double> weights = ramp(1 << 16);  // 512 KiB
  const std::vector<Buffer> frames = cannery::serialize_object(weights);
  std::optional<SharedFrames> shared = SharedFrames::prepare(frames, 4096);
  REQUIRE(shared);
  controller.send(put_of(5, *shared), shared->placeholders(frames));
  auto reply = controller.apply("sum", RefArgument{5});
  CHECK(result_of<double>(reply) == Approx(0.5 * 65535 * 65536 / 2));

  // The engine's view outlives the segment's name.
  shared.reset();
  reply = controller.apply("sum", RefArgument{5});
  CHECK(result_of<double>(reply) == Approx(0.5 * 65535 * 65536 / 2));
}

TEST_CASE("a put whose segment does not fit is refused and nothing is cached",
          "[engine][shared_memory]") {
  ScriptedController controller;
  LogLines log;
  RunningEngine running(options_for(controller, &log));
  running.start();
  controller.register_engine();

  const std::vector<Buffer> frames = cannery::serialize_object(ramp(1 << 14));
  std::optional<SharedFrames> shared = SharedFrames::prepare(frames, 4096);
  REQUIRE(shared);
  proto::PutRequest put = put_of(6, *shared);
  put.shared_memory->at(0).size += 64;
  controller.send(put, shared->placeholders(frames));

  auto reply = controller.apply("sum", RefArgument{6});
  CHECK(failure_of(reply).ename == "cannery.invalid_argument");
  CHECK(log.contains("the message says"));
  // Still serving.
  CHECK(result_of<double>(controller.apply("add", 1.0, 2.0)) == 3.0);
}

TEST_CASE("an apply whose SharedArray argument is named in place reads it from the segment",
          "[engine][shared_memory]") {
  ScriptedController controller;
  RunningEngine running(options_for(controller));
  running.start();
  controller.register_engine();

  cannery::SharedArray<double> weights(1 << 16);
  std::iota(weights.begin(), weights.end(), 0.0);
  const std::vector<Buffer> frames = cannery::pack_apply_message("sum", weights);
  std::optional<SharedFrames> shared = SharedFrames::in_place(frames, 4096);
  REQUIRE(shared);
  proto::ApplyRequest apply{.task = 0, .shared_memory = shared->descriptor(), .keep_as = {}};
  auto reply = controller.request(apply, shared->placeholders(frames));
  CHECK(result_of<double>(reply) == Approx(0.5 * 65535 * 65536));

  // A descriptor that does not fit is an error reply, and the engine serves on.
  apply.shared_memory->at(0).size = 1;
  reply = controller.request(apply, shared->placeholders(frames));
  CHECK(failure_of(reply).ename == "cannery.malformed_message");
  CHECK(failure_of(reply).function == "apply");  // the header was not read
  CHECK(result_of<double>(controller.apply("add", 1.0, 2.0)) == 3.0);
}
