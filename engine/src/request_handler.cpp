#include "cannery/engine/detail/request_handler.hpp"

#include <cstdint>
#include <utility>

#include "cannery/engine/errors.hpp"
#include "cannery/messaging/shared_memory.hpp"

namespace cannery::detail {

namespace {

namespace proto = cannery::protocol;

// Only the task id of a request, to answer one whose other fields are wrong.
struct TaskOnly {
  std::uint64_t task = 0;
  static constexpr auto fields() { return std::tuple{proto::field("task", &TaskOnly::task)}; }
};

Reply ok(std::uint64_t task, std::vector<Buffer> buffers) {
  Reply reply{{}, std::move(buffers)};
  reply.content.task = task;
  return reply;
}

// The kind of request ("apply", "map", ...) that an error reply names until
// the function is known.
std::string kind_of(std::string_view type) {
  return std::string(type.substr(0, type.find("_request")));
}

// An error reply. `function` is the name it reports: the function, or the
// kind of request.
Reply failed(std::uint64_t task, std::string function, ErrorDescription d) {
  Reply reply;
  reply.content.task = task;
  reply.content.status = proto::Status::error;
  reply.content.function = std::move(function);
  reply.content.ename = std::move(d.ename);
  reply.content.evalue = std::move(d.evalue);
  return reply;
}

// The error reply for the exception being handled.
Reply failed(std::uint64_t task, std::string function) {
  return failed(task, std::move(function), describe_current_exception());
}

// Maps back in, in place, the frames a controller on this host left in
// shared memory. A descriptor that does not fit throws cannery::error and
// leaves the buffers as they were.
void restore_shared(const std::optional<proto::SharedMemoryDescriptor>& shared,
                    std::vector<Buffer>& buffers) {
  if (shared) restore_shared_frames(*shared, buffers);
}

}  // namespace

RequestHandler::RequestHandler(const FunctionRegistry& functions, const Limits& limits,
                               RefusalLog& refusals, ObjectFetcher fetcher)
    : functions_(functions), limits_(limits), refusals_(refusals), fetcher_(std::move(fetcher)) {}

std::optional<Reply> RequestHandler::handle(std::string_view type, const Object& content,
                                            std::vector<Buffer>& buffers) {
  std::optional<Reply> reply;
  try {
    const bool known = WorkMessages::dispatch(
        type, content, [&](const auto& request) { reply = (*this)(request, buffers); });
    if (!known) {
      refusals_.record(error(errc::malformed_message, "ignored a message of unknown type '" +
                                                          std::string(type.substr(0, 64)) + "'"),
                       "controller");
    }
  } catch (const error& e) {
    // Raised only by decoding: the handlers answer their own failures.
    // Only requests with a task are ever answered; put and release never are.
    using AnsweredRequests = proto::MessageTable<proto::ApplyRequest, proto::MapRequest,
                                                 proto::PushRequest, proto::PullRequest>;
    std::optional<TaskOnly> task;
    if (AnsweredRequests::contains(type)) {
      try {
        task = proto::decode<TaskOnly>(content, type);
      } catch (const error&) {
        // Nothing to answer: refused below.
      }
    }
    if (!task) {
      refusals_.record(
          error(e.code(), "ignored a " + std::string(type.substr(0, 64)) + ": " + e.message()),
          "controller");
      return std::nullopt;
    }
    reply = failed(task->task, kind_of(type));
  }
  return reply;
}

template <class Request, class Run>
Reply RequestHandler::call(const Request& request, std::vector<Buffer>& buffers, Run&& run) {
  // "apply" or "map" until the call's header has been read.
  std::string function = kind_of(Request::type);
  try {
    restore_shared(request.shared_memory, buffers);
    ApplyMessage call(buffers, limits_);
    function = call.function();
    const std::uint64_t damaged_before = damaged_segments_seen();
    std::vector<Buffer> result = run(call);
    if (damaged_segments_seen() != damaged_before) {
      throw error(errc::io_error,
                  "a shared memory segment was truncated by another process while the task "
                  "ran: it may have read zeros instead of data, so its result is not sent");
    }
    return ok(request.task, std::move(result));
  } catch (...) {
    return failed(request.task, std::move(function));
  }
}

std::optional<Reply> RequestHandler::operator()(const proto::ApplyRequest& request,
                                                std::vector<Buffer>& buffers) {
  return call(request, buffers, [&](ApplyMessage& call) {
    std::vector<Buffer> result = functions_.apply(call, &cache_).frames();
    if (!request.keep_as) return result;
    // Kept here for later calls and other engines; the controller gets its size.
    std::int64_t bytes = 0;
    for (const Buffer& b : result)
      bytes += static_cast<std::int64_t>(b.size());
    cache_.put(*request.keep_as, std::move(result));
    return can(bytes).frames();
  });
}

std::optional<Reply> RequestHandler::operator()(const proto::MapRequest& request,
                                                std::vector<Buffer>& buffers) {
  return call(request, buffers, [&](ApplyMessage& call) {
    return functions_.map(call, static_cast<std::size_t>(request.count), &cache_).frames();
  });
}

std::optional<Reply> RequestHandler::operator()(const proto::PushRequest& request,
                                                std::vector<Buffer>& buffers) {
  try {
    // Split and check everything first: a push stores all its values or none.
    std::vector<std::pair<std::string, std::vector<Buffer>>> values;
    std::span<const Buffer> rest = buffers;
    for (const std::string& name : request.names) {
      if (rest.empty()) break;
      PeekedObject peeked = peek_object(rest, limits_);
      values.emplace_back(name, std::vector<Buffer>(peeked.frames.begin(), peeked.frames.end()));
      rest = peeked.remaining;
    }
    if (values.size() != request.names.size() || !rest.empty()) {
      throw error(errc::invalid_argument, "push_request names " +
                                              std::to_string(request.names.size()) +
                                              " values but does not carry exactly as many objects");
    }
    for (auto& [name, frames] : values)
      names_.insert_or_assign(std::move(name), std::move(frames));
    return ok(request.task, can(nullptr).frames());
  } catch (...) {
    return failed(request.task, "push");
  }
}

std::optional<Reply> RequestHandler::operator()(const proto::PullRequest& request,
                                                std::vector<Buffer>&) {
  auto found = names_.find(request.name);
  if (found == names_.end()) {
    return failed(request.task, "pull",
                  {"cannery." + std::string(to_string(errc::unknown_name)),
                   "no value named '" + request.name + "' on this engine: push it first"});
  }
  return ok(request.task, found->second);  // the frames as pushed: nothing uncanned or copied
}

std::optional<Reply> RequestHandler::operator()(const proto::PutRequest& request,
                                                std::vector<Buffer>& buffers) {
  try {
    restore_shared(request.shared_memory, buffers);
    // Checked now, so that a broken object is reported here rather than by
    // every call that uses it.
    PeekedObject peeked = peek_object(buffers, limits_);
    if (!peeked.remaining.empty()) {
      throw error(errc::malformed_message, "put_request for ref " + std::to_string(request.ref) +
                                               " carries more than one object");
    }
    cache_.put(request.ref, std::move(buffers));
  } catch (const error& e) {
    refusals_.record(error(e.code(), "ignored a put_request: " + e.message()), "controller");
  }
  return std::nullopt;
}

std::optional<Reply> RequestHandler::operator()(const proto::FetchRequest& request,
                                                std::vector<Buffer>&) {
  try {
    if (!fetcher_) {
      throw error(errc::object_lost, "this engine has no data plane to fetch it from engine " +
                                         std::to_string(request.from_engine));
    }
    fetcher_(request, cache_);
  } catch (const error& e) {
    cache_.note_lost(request.ref, e.message());
    refusals_.record(
        error(e.code(), "could not fetch ref " + std::to_string(request.ref) + ": " + e.message()),
        "engine " + std::to_string(request.from_engine));
  }
  return std::nullopt;
}

std::optional<Reply> RequestHandler::operator()(const proto::ReleaseRequest& request,
                                                std::vector<Buffer>&) {
  for (std::uint64_t ref : request.refs)
    cache_.release(ref);
  return std::nullopt;
}

}  // namespace cannery::detail
