#include "relay_fetch.hpp"

#include <map>
#include <memory>
#include <thread>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/canning/serialize.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/heart.hpp"
#include "cannery/messaging/shared_memory.hpp"

namespace cannery::detail {

namespace proto = cannery::protocol;

namespace {

std::string name_of(const proto::RelaySource& source) {
  return (source.engine < 0 ? std::string("the controller")
                            : "engine " + std::to_string(source.engine)) +
         " at " + source.endpoint;
}

// The layout comes from the controller, but it is still received bytes: it
// must not ask for more frames, or larger ones, than this engine accepts.
void check_layout(const std::vector<std::uint64_t>& sizes, const RelaySetup& setup,
                  std::uint64_t ref) {
  const std::string what = "the fetch_request for relayed ref " + std::to_string(ref);
  if (sizes.empty() || sizes.size() > setup.limits.max_buffers + 1) {
    throw error(errc::malformed_message, what + " names " + std::to_string(sizes.size()) +
                                             " frames; an object has 1 to Limits::max_buffers + 1");
  }
  if (sizes.front() == 0 || sizes.front() > setup.limits.max_header_bytes) {
    throw error(errc::limit_exceeded, what + " names a header frame of " +
                                          std::to_string(sizes.front()) +
                                          " bytes, beyond Limits::max_header_bytes or empty");
  }
  for (std::uint64_t size : sizes) {
    if (setup.max_frame_bytes > 0 && size > static_cast<std::uint64_t>(setup.max_frame_bytes)) {
      throw error(errc::limit_exceeded,
                  what + " names a frame of " + std::to_string(size) +
                      " bytes, beyond this engine's max_frame_bytes: raise it on every engine");
    }
  }
}

// One source's connection.
class Puller {
 public:
  Puller(const RelaySetup& setup, std::uint64_t ref, const proto::RelaySource& source)
      : setup_(setup),
        ref_(ref),
        from_engine_(source.engine >= 0),
        dealer_(*setup.context, zmq::socket_type::dealer) {
    dealer_.set(zmq::sockopt::linger, 0);
    if (setup.max_frame_bytes > 0) limit_frame_size(dealer_, setup.max_frame_bytes);
    secure_data_client(
        dealer_, setup.curve,
        source.engine < 0 && setup.curve ? setup.curve->controller_key : source.curve_key,
        name_of(source));
    dealer_.connect(source.engine < 0 ? heart_connect_endpoint(setup.controller_endpoint,
                                                               source.endpoint, "relay endpoint")
                                      : source.endpoint);
  }

  // The object through shared memory when the source holds it there and
  // this engine sees it; nullopt (and `why`) otherwise. `gone` tells that
  // the source does not hold it at all or did not answer.
  std::optional<std::vector<Buffer>> map_shared(const std::vector<std::uint64_t>& sizes,
                                                std::string& why, bool& gone) {
    ask({ref_, 0, 0, setup_.shm_domain});
    while (true) {
      std::optional<proto::ChunkReply> reply = next_reply(why);
      if (!reply) {
        gone = true;
        return std::nullopt;
      }
      if (reply->state == proto::ChunkState::pending) {
        ask({ref_, 0, 0, setup_.shm_domain});
        continue;
      }
      if (reply->state == proto::ChunkState::missing) {
        if (not_there_yet()) {
          ask({ref_, 0, 0, setup_.shm_domain});
          continue;
        }
        gone = true;
        why = "does not hold it";
        return std::nullopt;
      }
      if (reply->state != proto::ChunkState::shared || !reply->shared_memory) {
        why = "cannot hand it over through shared memory";
        return std::nullopt;
      }
      std::vector<Buffer> frames(sizes.size());
      try {
        restore_shared_frames(*reply->shared_memory, frames);
      } catch (const error& e) {
        why = "named shared memory this engine cannot map (" + e.message() + ")";
        return std::nullopt;
      }
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (frames[i].size() != sizes[i]) {
          why = "named shared memory that does not hold the object's frames";
          return std::nullopt;
        }
      }
      return frames;
    }
  }

  // Pulls what `arrival` lacks, a window of pieces at a time; `bytes` counts
  // what came. Empty when complete, else why it stopped.
  std::string pull(Arrival& arrival, std::uint64_t& bytes) {
    std::uint64_t next = arrival.arrived();
    std::map<std::uint64_t, std::uint64_t> asked;  // offset -> length
    auto fill = [&] {
      while (asked.size() < setup_.window && next < arrival.total()) {
        const std::optional<FrameSlice> at = slice_at(arrival.frames(), next);
        const std::uint64_t length = std::min(setup_.piece_bytes, at->left);
        ask({ref_, next, length, std::nullopt});
        asked.emplace(next, length);
        next += length;
      }
    };
    fill();
    std::string why;
    while (!asked.empty()) {
      std::optional<proto::ChunkReply> reply = next_reply(why);
      if (!reply) return why;
      auto piece = asked.find(reply->offset);
      if (piece == asked.end()) continue;  // not a piece it waits for
      switch (reply->state) {
        case proto::ChunkState::pending:
          ask({ref_, piece->first, piece->second, std::nullopt});
          continue;
        case proto::ChunkState::data:
          if (buffers_.size() != 1 || buffers_.front().size() != piece->second)
            return "sent a piece of another size than asked for";
          arrival.write(piece->first, {buffers_.front().data(), buffers_.front().size()});
          bytes += piece->second;
          asked.erase(piece);
          // Everything below the first piece still asked for is in place.
          arrival.publish(asked.empty() ? next : asked.begin()->first);
          fill();
          continue;
        case proto::ChunkState::missing:
          if (not_there_yet()) {
            ask({ref_, piece->first, piece->second, std::nullopt});
            continue;
          }
          return "does not hold it";
        default:
          return "answered a piece with " +
                 std::string(names_of(reply->state)[static_cast<std::size_t>(reply->state)]);
      }
    }
    return {};
  }

 private:
  // An engine told to fetch the object at the same time as this one may not
  // have begun yet (or be finishing a task first): a `missing` from it is
  // asked again, every few milliseconds, for as long as a silent source
  // would be waited for. The controller holds its puts from the start.
  bool not_there_yet() {
    if (!from_engine_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (!missing_since_) missing_since_ = now;
    if (now - *missing_since_ >= setup_.stall_timeout) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return true;
  }

  void ask(const proto::ChunkRequest& request) {
    setup_.session->send(dealer_, proto::make_message(*setup_.session, request));
  }

  // The next chunk_reply for this ref, its buffers in buffers_; nullopt
  // (and `why`) when the source sent nothing in time or garbage.
  std::optional<proto::ChunkReply> next_reply(std::string& why) {
    while (true) {
      std::optional<Message> message;
      try {
        message = setup_.session->receive(dealer_, setup_.stall_timeout);
      } catch (const error& e) {
        why = "sent a message that was refused (" + e.message() + ")";
        return std::nullopt;
      }
      if (!message) {
        why = "sent nothing for " + std::to_string(setup_.stall_timeout.count()) + " ms";
        return std::nullopt;
      }
      if (message->header.msg_type != proto::ChunkReply::type) continue;
      try {
        proto::ChunkReply reply = proto::decode<proto::ChunkReply>(*message);
        if (reply.ref != ref_) continue;
        buffers_ = std::move(message->buffers);
        return reply;
      } catch (const error& e) {
        why = "sent a malformed chunk_reply (" + e.message() + ")";
        return std::nullopt;
      }
    }
  }

  const RelaySetup& setup_;
  std::uint64_t ref_;
  bool from_engine_;
  std::optional<std::chrono::steady_clock::time_point> missing_since_;
  zmq::socket_t dealer_;
  std::vector<Buffer> buffers_;
};

void check_one_object(const std::vector<Buffer>& frames, const Limits& limits, std::uint64_t ref) {
  PeekedObject peeked = peek_object(frames, limits);
  if (!peeked.remaining.empty()) {
    throw error(errc::object_lost,
                "relayed ref " + std::to_string(ref) + " holds more than one object");
  }
}

}  // namespace

RelayFetched relay_fetch(const proto::FetchRequest& request, const RelaySetup& setup) {
  const std::vector<std::uint64_t>& sizes = request.frame_sizes.value();
  check_layout(sizes, setup, request.ref);
  // The controller names at most a few; more would only be a peer's way to
  // keep this engine busy.
  constexpr std::size_t max_fallbacks = 16;
  if (request.fallbacks && request.fallbacks->size() > max_fallbacks) {
    throw error(errc::malformed_message,
                "the fetch_request for relayed ref " + std::to_string(request.ref) + " names " +
                    std::to_string(request.fallbacks->size()) + " fallbacks; at most 16 are taken");
  }
  std::vector<proto::RelaySource> sources{
      {request.from_engine, request.endpoint, request.curve_key}};
  if (request.fallbacks)
    sources.insert(sources.end(), request.fallbacks->begin(), request.fallbacks->end());

  RelayFetched fetched;
  std::shared_ptr<Arrival> arrival;
  std::string tried;
  for (const proto::RelaySource& source : sources) {
    std::string why;
    try {
      Puller puller(setup, request.ref, source);
      bool gone = false;
      if (!arrival && setup.shm_domain && source.engine >= 0) {
        auto frames = puller.map_shared(sizes, why, gone);
        if (frames) {
          check_one_object(*frames, setup.limits, request.ref);
          for (std::uint64_t size : sizes)
            fetched.through_shared_memory += size;
          fetched.frames = std::move(*frames);
          return fetched;
        }
      }
      if (!gone) {
        if (!arrival) {
          arrival = std::make_shared<Arrival>(sizes, setup.shm_domain.has_value());
          setup.arrivals->add(request.ref, arrival);
        }
        std::uint64_t& bytes = source.engine < 0 ? fetched.from_controller : fetched.from_engines;
        why = puller.pull(*arrival, bytes);
        if (why.empty()) break;
      }
    } catch (const zmq::error_t& e) {
      why = std::string("could not be reached (") + e.what() + ")";
    } catch (const error& e) {
      if (e.code() == errc::limit_exceeded) throw;  // no source would do better
      why = "could not be used (" + e.message() + ")";
    }
    tried += (tried.empty() ? "" : "; ") + name_of(source) + " " + why;
  }
  if (!arrival || !arrival->complete()) {
    setup.arrivals->remove(request.ref);
    throw error(errc::object_lost,
                "no source gave all of relayed ref " + std::to_string(request.ref) + ": " + tried);
  }
  try {
    check_one_object(arrival->frames(), setup.limits, request.ref);
  } catch (...) {
    setup.arrivals->remove(request.ref);
    throw;
  }
  fetched.frames = arrival->frames();
  return fetched;
}

}  // namespace cannery::detail
