#pragma once
// What an engine does with each work message (apply, map, push, pull, put,
// release), independent of threads and sockets. Holds the engine's state
// between requests: cached objects and named values. One thread at a time.
// Not public API: shared by the engine's loop and the in-process engine the
// controller tests run.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cannery/canning/options.hpp"
#include "cannery/engine/detail/reply.hpp"
#include "cannery/engine/functions.hpp"
#include "cannery/engine/object_cache.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/refusals.hpp"

namespace cannery::detail {

using LogSink = std::function<void(std::string_view)>;

// The messages a RequestHandler takes, alone or as parts of a batch_request.
using WorkMessages =
    protocol::MessageTable<protocol::ApplyRequest, protocol::MapRequest, protocol::PushRequest,
                           protocol::PullRequest, protocol::PutRequest, protocol::ReleaseRequest,
                           protocol::FetchRequest>;

// Brings the object a fetch_request names from where it is (data_plane.hpp,
// fetch_object; relay_fetch.hpp) into `cache`; throws cannery::error saying
// why it cannot.
using ObjectFetcher = std::function<void(const protocol::FetchRequest&, ObjectCache& cache)>;

class RequestHandler {
 public:
  // Requests it cannot act on are counted and logged in `refusals`. Without
  // a `fetcher`, every fetch_request fails (the object is noted as lost).
  RequestHandler(const FunctionRegistry& functions, const Limits& limits, RefusalLog& refusals,
                 ObjectFetcher fetcher = {});

  // Handles the work message `type` with `content` and `buffers`: the reply
  // to send, or nothing (put and release have none). A request whose content
  // does not fit its type is answered with a cannery.malformed_message error
  // when its task id can be read, else refused. Frames named in shared memory
  // are mapped into `buffers`, and a put_request's buffers are moved into the
  // cache.
  std::optional<Reply> handle(std::string_view type, const Object& content,
                              std::vector<Buffer>& buffers);

  std::optional<Reply> operator()(const protocol::ApplyRequest& request,
                                  std::vector<Buffer>& buffers);
  std::optional<Reply> operator()(const protocol::MapRequest& request,
                                  std::vector<Buffer>& buffers);
  std::optional<Reply> operator()(const protocol::PushRequest& request,
                                  std::vector<Buffer>& buffers);
  std::optional<Reply> operator()(const protocol::PullRequest& request,
                                  std::vector<Buffer>& buffers);
  std::optional<Reply> operator()(const protocol::PutRequest& request,
                                  std::vector<Buffer>& buffers);
  std::optional<Reply> operator()(const protocol::ReleaseRequest& request,
                                  std::vector<Buffer>& buffers);
  std::optional<Reply> operator()(const protocol::FetchRequest& request,
                                  std::vector<Buffer>& buffers);

  const ObjectCache& cache() const noexcept { return cache_; }
  ObjectCache& cache() noexcept { return cache_; }

 private:
  // Runs a function call (apply or map) and answers with its result.
  template <class Request, class Run>
  Reply call(const Request& request, std::vector<Buffer>& buffers, Run&& run);

  const FunctionRegistry& functions_;
  Limits limits_;
  RefusalLog& refusals_;
  ObjectFetcher fetcher_;
  ObjectCache cache_;
  std::map<std::string, std::vector<Buffer>, std::less<>> names_;  // pushed values, as canned
};

}  // namespace cannery::detail
