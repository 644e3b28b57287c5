#pragma once
// What an engine does with each work message (apply, map, push, pull, put,
// release), independent of threads and sockets. Holds the engine's state
// between requests: cached objects and named values. One thread at a time.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/canning/options.hpp"
#include "cannery/engine/functions.hpp"
#include "cannery/engine/object_cache.hpp"
#include "cannery/messaging/refusals.hpp"
#include "cannery/messaging/session.hpp"
#include "reply.hpp"

namespace cannery::detail {

using LogSink = std::function<void(std::string_view)>;

class RequestHandler {
 public:
  // Requests it cannot act on are counted and logged in `refusals`.
  RequestHandler(const FunctionRegistry& functions, const Limits& limits, RefusalLog& refusals);

  // The reply to send, or nothing (put and release have none; neither has a
  // request without a task id, which is refused: nothing to reply to). Frames
  // named in shared memory are mapped into `request`'s buffers, and a
  // put_request's buffers are moved into the cache.
  std::optional<Reply> handle(Message& request);

  const ObjectCache& cache() const noexcept { return cache_; }

 private:
  void put(Message& request);
  void release(const Message& request);
  CannedObject push(const Message& request);

  const FunctionRegistry& functions_;
  Limits limits_;
  RefusalLog& refusals_;
  ObjectCache cache_;
  std::map<std::string, std::vector<Buffer>, std::less<>> names_;  // pushed values, as canned
};

}  // namespace cannery::detail
