#include "request_handler.hpp"

#include <cstdint>
#include <utility>

#include "cannery/engine/errors.hpp"
#include "cannery/messaging/protocol.hpp"
#include "cannery/messaging/shared_memory.hpp"

namespace cannery::detail {

namespace {

namespace proto = cannery::protocol;

const Object& required(const Message& m, std::string_view name) {
  const Object* value = m.content.find(name);
  if (value == nullptr) {
    throw error(errc::malformed_message,
                m.header.msg_type + " has no '" + std::string(name) + "' field");
  }
  return *value;
}

void set_error(Reply& reply, std::string function, std::string ename, std::string evalue) {
  reply.content[std::string(proto::status)] = std::string(proto::status_error);
  reply.content[std::string(proto::function)] = std::move(function);
  reply.content[std::string(proto::ename)] = std::move(ename);
  reply.content[std::string(proto::evalue)] = std::move(evalue);
  reply.buffers.clear();
}

// Maps back in, in place, the frames a controller on this host left in
// shared memory (`shared_memory` in the content). A descriptor that does not
// fit throws cannery::error and leaves the buffers as they were.
void restore_shared(Message& request) {
  if (const Object* shared = request.content.find(proto::shared_memory))
    restore_shared_frames(*shared, request.buffers);
}

}  // namespace

RequestHandler::RequestHandler(const FunctionRegistry& functions, const Limits& limits,
                               RefusalLog& refusals)
    : functions_(functions), limits_(limits), refusals_(refusals) {}

std::optional<Reply> RequestHandler::handle(Message& request) {
  const std::string& type = request.header.msg_type;
  if (type == proto::put_request || type == proto::release_request) {
    try {
      type == proto::put_request ? put(request) : release(request);
    } catch (const error& e) {
      refusals_.record(error(e.code(), "ignored a " + type + ": " + e.message()), "controller");
    }
    return std::nullopt;
  }
  const Object* task = request.content.find(proto::task);
  if (task == nullptr || task->kind() != Object::Kind::integer) {
    refusals_.record(
        error(errc::malformed_message,
              "dropped a " + type + " without an integer 'task' (nothing to reply to)"),
        "controller");
    return std::nullopt;
  }
  Reply reply{Object::Dict{{std::string(proto::task), *task}}, {}};
  // The name an error reply reports: the function, or the kind of request.
  // ("apply" or "map" until the call's header has been read).
  std::string function = type.substr(0, type.find("_request"));
  try {
    if (type == proto::apply_request || type == proto::map_request) {
      restore_shared(request);
      ApplyMessage call(request.buffers, limits_);
      function = call.function();
      const std::uint64_t damaged_before = damaged_segments_seen();
      if (type == proto::apply_request) {
        reply.buffers = functions_.apply(call, &cache_).frames();
      } else {
        const std::int64_t count = required(request, proto::count).to_int64();
        if (count < 0) throw error(errc::invalid_argument, "map_request count is negative");
        reply.buffers = functions_.map(call, static_cast<std::size_t>(count), &cache_).frames();
      }
      if (damaged_segments_seen() != damaged_before) {
        throw error(errc::io_error,
                    "a shared memory segment was truncated by another process while the task "
                    "ran: it may have read zeros instead of data, so its result is not sent");
      }
    } else if (type == proto::push_request) {
      reply.buffers = push(request).frames();
    } else {
      const std::string& name = required(request, proto::name).to_string();
      auto found = names_.find(name);
      if (found == names_.end()) {
        set_error(reply, "pull", "cannery.unknown_name",
                  "no value named '" + name + "' on this engine: push it first");
        return reply;
      }
      reply.buffers = found->second;  // the frames as pushed: nothing uncanned or copied
    }
    reply.content[std::string(proto::status)] = std::string(proto::status_ok);
  } catch (...) {
    ErrorDescription d = describe_current_exception();
    set_error(reply, std::move(function), std::move(d.ename), std::move(d.evalue));
  }
  return reply;
}

void RequestHandler::put(Message& request) {
  const auto ref = required(request, proto::ref).as<std::uint64_t>();
  restore_shared(request);
  // Checked now, so that a broken object is reported here rather than by
  // every call that uses it.
  PeekedObject peeked = peek_object(request.buffers, limits_);
  if (!peeked.remaining.empty()) {
    throw error(errc::malformed_message,
                "put_request for ref " + std::to_string(ref) + " carries more than one object");
  }
  cache_.put(ref, std::move(request.buffers));
}

void RequestHandler::release(const Message& request) {
  for (const Object& ref : required(request, proto::refs).to_list())
    cache_.release(ref.as<std::uint64_t>());
}

CannedObject RequestHandler::push(const Message& request) {
  const Object::List& names = required(request, proto::names).to_list();
  // Split and check everything first: a push stores all its values or none.
  std::vector<std::pair<std::string, std::vector<Buffer>>> values;
  std::span<const Buffer> rest = request.buffers;
  for (const Object& name : names) {
    if (rest.empty()) break;
    PeekedObject peeked = peek_object(rest, limits_);
    values.emplace_back(name.to_string(),
                        std::vector<Buffer>(peeked.frames.begin(), peeked.frames.end()));
    rest = peeked.remaining;
  }
  if (values.size() != names.size() || !rest.empty()) {
    throw error(errc::invalid_argument, "push_request names " + std::to_string(names.size()) +
                                            " values but does not carry exactly as many objects");
  }
  for (auto& [name, frames] : values)
    names_.insert_or_assign(std::move(name), std::move(frames));
  return can(nullptr);
}

}  // namespace cannery::detail
