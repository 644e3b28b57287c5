#include "cannery/messaging/object_server.hpp"

#include <pthread.h>

#include <limits>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/detail/poll.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/shared_memory.hpp"

namespace cannery::detail {

namespace proto = cannery::protocol;
using namespace std::chrono_literals;

namespace {

// Larger pieces are refused: a piece is one message, and a peer's huge
// request would hold this thread for a whole large frame.
constexpr std::uint64_t max_piece_bytes = std::uint64_t{64} << 20;

// The bytes [offset, offset + length) of `frames` end to end when they lie
// within one frame; nullopt otherwise.
std::optional<Buffer> piece_of(std::span<const Buffer> frames, std::uint64_t offset,
                               std::uint64_t length) {
  const std::optional<FrameSlice> at = slice_at(frames, offset);
  if (!at || length > at->left) return std::nullopt;
  return frames[at->frame].slice(static_cast<std::size_t>(at->within),
                                 static_cast<std::size_t>(length));
}

}  // namespace

ObjectServer::ObjectServer(zmq::context_t& context, Setup setup)
    : setup_(std::move(setup)),
      router_(context, zmq::socket_type::router),
      session_(setup_.session) {
  router_.set(zmq::sockopt::linger, 0);
  if (setup_.max_frame_bytes > 0) limit_frame_size(router_, setup_.max_frame_bytes);
  if (setup_.before_bind) setup_.before_bind(router_);
  try {
    router_.bind(setup_.bind_endpoint);
  } catch (const zmq::error_t& e) {
    throw error(errc::io_error, "cannot bind the " + setup_.peer_kind + "'s data socket at '" +
                                    setup_.bind_endpoint + "': " + e.what());
  }
  endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] { run(); });
}

ObjectServer::~ObjectServer() {
  stop_.store(true);
  stop_wake_.notify();
  if (thread_.joinable()) thread_.join();
}

void ObjectServer::run() noexcept {
  ::pthread_setname_np(::pthread_self(), setup_.thread_name.c_str());
  while (!stop_.load()) {
    try {
      std::optional<Message> request = session_.receive(router_, 0ms);
      if (request) serve(std::move(*request));
      const auto now = std::chrono::steady_clock::now();
      std::erase_if(waiting_,
                    [&](Waiting& w) { return answer(w, now - w.since >= setup_.pending_after); });
      // Counted before a wait that may last until the next request.
      refused_.store(session_.refusals().total(), std::memory_order_relaxed);
      if (!request) wait_for_request();
    } catch (const std::exception& e) {
      session_.refusals().record(error(errc::io_error, std::string("data socket: ") + e.what()),
                                 setup_.peer_kind);
    }
  }
}

void ObjectServer::wait_for_request() {
  // Idle, the thread sleeps until a request comes or the destructor wakes
  // it, so that hundreds of idle engines cost no CPU. While requests wait for
  // bytes still arriving, short waits answer them within a few milliseconds
  // of their bytes' arrival.
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                             {nullptr, stop_wake_.fd(), ZMQ_POLLIN, 0}};
  detail::poll(items, waiting_.empty() ? std::chrono::milliseconds(-1) : 2ms);
}

void ObjectServer::serve(Message request) {
  if (request.header.msg_type == proto::ObjectRequest::type) return serve_object(request);
  if (request.header.msg_type == proto::ChunkRequest::type) return serve_chunk(std::move(request));
  session_.refusals().record(
      error(errc::malformed_message,
            "ignored a " + request.header.msg_type.substr(0, 64) +
                " on the data socket: it takes object_request and chunk_request only"),
      setup_.peer_kind);
}

void ObjectServer::serve_object(const Message& request) {
  const auto wanted = proto::decode<proto::ObjectRequest>(request);
  const Holding holding = setup_.lookup(wanted.ref);
  // An object still arriving is not whole yet: object_request is for kept
  // results, which are whole from the start.
  std::vector<Buffer> buffers;
  if (holding.frames) buffers = *holding.frames;  // shares the cached frames: nothing is copied
  const std::size_t bytes = total_size(buffers);
  session_.send(router_, proto::make_message(
                             session_, proto::ObjectReply{wanted.ref, holding.frames != nullptr},
                             &request, std::move(buffers)));
  if (holding.frames && setup_.served) setup_.served(wanted.ref, bytes, true);
}

void ObjectServer::serve_chunk(Message request) {
  auto wanted = proto::decode<proto::ChunkRequest>(request);
  const bool whole_object = wanted.shm_domain.has_value();
  if (whole_object ? (wanted.offset != 0 || wanted.length != 0)
                   : (wanted.length == 0 || wanted.length > max_piece_bytes)) {
    session_.refusals().record(
        error(errc::malformed_message,
              "ignored a chunk_request for " + std::to_string(wanted.length) + " bytes at " +
                  std::to_string(wanted.offset) +
                  ": a piece is 1 byte to 64 MiB; one through shared memory is offset 0, "
                  "length 0"),
        setup_.peer_kind);
    return;
  }
  Waiting w{std::move(request), std::move(wanted), {}, std::chrono::steady_clock::now()};
  w.holding = setup_.lookup(w.wanted.ref);
  if (!answer(w, waiting_.size() >= setup_.max_waiting)) waiting_.push_back(std::move(w));
}

bool ObjectServer::answer(Waiting& w, bool pending_due) {
  const proto::ChunkRequest& wanted = w.wanted;
  proto::ChunkReply content{wanted.ref, wanted.offset, proto::ChunkState::missing, {}};
  if (!w.holding) {
    reply(w.request, content);
    return true;
  }
  const std::vector<Buffer>& frames =
      w.holding.frames ? *w.holding.frames : w.holding.arrival->frames();
  const bool whole = w.holding.frames || w.holding.arrival->complete();
  if (wanted.shm_domain) {
    // Through shared memory only when all of it lies in segments this
    // process made and the asker sees them.
    const bool same = setup_.shm_domain && *setup_.shm_domain == *wanted.shm_domain;
    const bool in_segments = w.holding.arrival ? w.holding.arrival->in_shared_memory() : false;
    if (!same || (!in_segments && !w.holding.frames)) {
      content.state = proto::ChunkState::not_shared;
    } else if (!whole) {
      if (!pending_due) return false;
      content.state = proto::ChunkState::pending;
    } else {
      std::optional<SharedFrames> shared = SharedFrames::in_place(frames, 1);
      std::uint64_t placed = 0;
      if (shared) placed = shared->in_place_bytes();
      if (shared && placed == total_size(frames)) {
        content.state = proto::ChunkState::shared;
        content.shared_memory = shared->descriptor();
        if (setup_.served) setup_.served(wanted.ref, 0, true);
      } else {
        content.state = proto::ChunkState::not_shared;
      }
    }
    reply(w.request, content);
    return true;
  }
  const std::uint64_t arrived =
      whole ? std::numeric_limits<std::uint64_t>::max() : w.holding.arrival->arrived();
  if (wanted.offset + wanted.length > arrived) {
    if (!pending_due) return false;
    content.state = proto::ChunkState::pending;
    reply(w.request, content);
    return true;
  }
  std::optional<Buffer> piece = piece_of(frames, wanted.offset, wanted.length);
  if (!piece) {
    // Outside the object, or across frames: what was asked does not exist.
    reply(w.request, content);
    return true;
  }
  content.state = proto::ChunkState::data;
  reply(w.request, content, {std::move(*piece)});
  if (setup_.served) setup_.served(wanted.ref, wanted.length, false);
  return true;
}

void ObjectServer::reply(const Message& request, const proto::ChunkReply& content,
                         std::vector<Buffer> buffers) {
  session_.send(router_, proto::make_message(session_, content, &request, std::move(buffers)));
}

}  // namespace cannery::detail
