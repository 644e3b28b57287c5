// put_request through shared memory: the engine offers a probe when it
// registers, maps the segment a put names, and refuses a descriptor that does
// not fit without caching anything.

#include <cannery/messaging/shared_array.hpp>
#include <cannery/messaging/shared_memory.hpp>
#include <numeric>

#include "scripted_controller.hpp"

namespace {

using namespace cannery::test;
namespace proto = cannery::protocol;
using cannery::Buffer;
using cannery::Object;
using cannery::SharedFrames;
using cannery::protocol::RefArgument;

Object::Dict put_content(std::int64_t ref, const SharedFrames& shared) {
  return {{std::string(proto::ref), ref}, {std::string(proto::shared_memory), shared.descriptor()}};
}

}  // namespace

TEST_CASE("an engine offers a shared memory probe unless told not to", "[engine][shared_memory]") {
  ScriptedController controller;
  {
    RunningEngine running(options_for(controller));
    running.start();
    const cannery::Message request = controller.register_engine();
    const Object* probe = request.content.find(proto::shared_memory);
    REQUIRE(probe != nullptr);
    CHECK(cannery::shares_memory_with(*probe));
  }
  ScriptedController other;
  cannery::EngineOptions options = options_for(other);
  options.shared_memory = false;
  RunningEngine running(std::move(options));
  running.start();
  CHECK(other.register_engine().content.find(proto::shared_memory) == nullptr);
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
  controller.send(proto::put_request, put_content(5, *shared), shared->placeholders(frames));
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
  Object::Dict content = put_content(6, *shared);
  Object& segment = content[std::string(proto::shared_memory)].to_list().at(0);
  segment.to_dict()["size"] = Object(segment.at("size").to_int64() + 64);
  controller.send(proto::put_request, std::move(content), shared->placeholders(frames));

  auto reply = controller.apply("sum", RefArgument{6});
  CHECK(reply.content.at(proto::ename).to_string() == "cannery.invalid_argument");
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
  cannery::Message reply = controller.request(
      proto::apply_request, {{std::string(proto::shared_memory), shared->descriptor()}},
      shared->placeholders(frames));
  CHECK(result_of<double>(reply) == Approx(0.5 * 65535 * 65536));

  // A descriptor that does not fit is an error reply, and the engine serves on.
  Object descriptor = shared->descriptor();
  descriptor.to_list().at(0).to_dict()["size"] = Object(std::int64_t{1});
  reply = controller.request(proto::apply_request,
                             {{std::string(proto::shared_memory), std::move(descriptor)}},
                             shared->placeholders(frames));
  CHECK(reply.content.at(proto::ename).to_string() == "cannery.malformed_message");
  CHECK(reply.content.at(proto::function).to_string() == "apply");  // the header was not read
  CHECK(result_of<double>(controller.apply("add", 1.0, 2.0)) == 3.0);
}
