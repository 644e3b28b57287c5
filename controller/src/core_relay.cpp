// Relayed puts (docs/controller.md, "Large puts to many engines"): a large
// put() leaves the controller once, from its relay socket, to the first
// engine that needs it; each engine of another host that needs it later
// fetches it from the one before in the chain while that one still
// receives, and engines of a host that already has it map the receiver's
// copy. Engines pass over a source that stops answering for the next one
// the fetch_request names, the controller last.

#include <algorithm>
#include <string>

#include "cannery/messaging/heart.hpp"
#include "core.hpp"

namespace cannery::detail {

namespace {

// Fallback sources named in a fetch_request besides the controller: more
// would only lengthen the request, and three engines dying at once in one
// relay is rarer than the controller answering in their place.
constexpr std::size_t max_engine_fallbacks = 3;

}  // namespace

void Core::start_relay(SessionOptions session) {
  if (!options_.relay) return;
  relay_ = std::make_unique<ObjectServer>(
      context_,
      ObjectServer::Setup{
          .session = std::move(session),
          .bind_endpoint = bind_address_beside(endpoint_, "-relay"),
          .max_frame_bytes = options_.max_frame_bytes,
          .thread_name = "cannery-relay",
          .peer_kind = "controller",
          .lookup =
              [this](std::uint64_t ref) {
                std::lock_guard lock(relay_mutex_);
                auto it = relay_objects_.find(ref);
                return Holding{it == relay_objects_.end() ? nullptr : it->second, nullptr};
              },
          .served =
              [this](std::uint64_t ref, std::uint64_t bytes, bool) {
                bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
                relay_bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
                add_ref_stats(ref, {.controller_bytes = bytes});
              },
          .shm_domain = std::nullopt,
          .before_bind =
              [this](zmq::socket_ref socket) {
                // Engines connect as to the work socket: the same keys, the
                // same allow-list (the context's authenticator).
                if (options_.curve_server) make_curve_server(socket, *options_.curve_server);
              }});
}

void Core::offer_for_relay(std::uint64_t ref_id, const Ref& ref) {
  if (!relay_ || total_size(ref.frames) < options_.relay_min_bytes) return;
  auto frames = std::make_shared<const std::vector<Buffer>>(ref.frames);
  std::lock_guard lock(relay_mutex_);
  relay_objects_[ref_id] = std::move(frames);
}

bool Core::relays(const Engine& engine, const Ref& ref) const {
  // Engines that see this host's /dev/shm map the controller's own copy.
  if (!relay_ || !engine.relay || (ref.shared && engine.info.shared_memory)) return false;
  return total_size(ref.frames) >= options_.relay_min_bytes;
}

bool Core::send_relayed(Engine& engine, std::uint64_t ref_id, Ref& ref) {
  Ref::Relay& relay = ref.relay ? *ref.relay : ref.relay.emplace();
  // Sent again after a failed fetch: it joins anew, and never as its own source.
  std::erase(relay.chain, engine.info.id);
  std::erase_if(relay.receiver_of, [&](const auto& r) { return r.second == engine.info.id; });
  auto usable = [&](int id) {
    auto it = engines_.find(id);
    return it != engines_.end() && it->second.info.alive && !it->second.doomed;
  };
  // The receivers before this engine's source, nearest first.
  std::vector<int> upstream;
  for (auto it = relay.chain.rbegin(); it != relay.chain.rend(); ++it)
    if (usable(*it)) upstream.push_back(*it);
  int source = -1;
  auto receiver = relay.receiver_of.find(engine.shm_domain);
  if (!engine.shm_domain.empty() && receiver != relay.receiver_of.end() &&
      usable(receiver->second)) {
    // Its host has the object (or is receiving it): map that copy.
    source = receiver->second;
    std::erase(upstream, source);
  } else {
    // It receives the object for its host, from the last receiver so far.
    if (!upstream.empty()) {
      source = upstream.front();
      upstream.erase(upstream.begin());
    }
    relay.chain.push_back(engine.info.id);
    if (!engine.shm_domain.empty()) relay.receiver_of[engine.shm_domain] = engine.info.id;
  }
  protocol::FetchRequest fetch{
      .ref = ref_id,
      .from_engine = source,
      .endpoint = source < 0 ? relay_->endpoint() : engines_.at(source).info.data_endpoint,
      .frame_sizes = std::vector<std::uint64_t>{},
      .fallbacks = std::vector<protocol::RelaySource>{},
      .curve_key = source < 0 ? std::nullopt : engines_.at(source).data_curve_key};
  for (const Buffer& b : ref.frames)
    fetch.frame_sizes->push_back(b.size());
  if (upstream.size() > max_engine_fallbacks) upstream.resize(max_engine_fallbacks);
  for (int id : upstream)
    fetch.fallbacks->push_back(
        {id, engines_.at(id).info.data_endpoint, engines_.at(id).data_curve_key});
  if (source >= 0) fetch.fallbacks->push_back({-1, relay_->endpoint(), std::nullopt});
  if (!send(engine, fetch)) return false;
  relay_fetches_.fetch_add(1, std::memory_order_relaxed);
  add_ref_stats(ref_id, {.relay_fetches = 1});
  holdings_.link(ref_id, engine.info.id);
  return true;
}

void Core::on_fetch_report(Engine& engine, const protocol::FetchReport& report) {
  if (!refs_.contains(report.ref)) return;  // released meanwhile
  add_ref_stats(report.ref, {.engine_bytes = report.from_engines,
                             .shared_memory_handoffs = report.through_shared_memory > 0 ? 1u : 0u});
  if (report.ok) return;
  // The tasks already sent to it that take the ref fail there with
  // object_lost; later ones get the object sent again.
  holdings_.unlink(report.ref, engine.info.id);
  refusals_.warn("cannery controller: engine " + std::to_string(engine.info.id) +
                 " could not fetch relayed ref " + std::to_string(report.ref) + ": " +
                 report.why.value_or("it did not say why"));
}

void Core::add_ref_stats(std::uint64_t ref_id, const RefStats& more) {
  std::lock_guard lock(ref_stats_mutex_);
  auto it = ref_stats_.find(ref_id);
  if (it == ref_stats_.end()) return;  // released (or never a put)
  RefStats& stats = it->second;
  stats.controller_bytes += more.controller_bytes;
  stats.engine_bytes += more.engine_bytes;
  stats.shared_memory_handoffs += more.shared_memory_handoffs;
  stats.relay_fetches += more.relay_fetches;
}

RefStats Core::ref_stats(std::uint64_t id) const {
  std::lock_guard lock(ref_stats_mutex_);
  auto it = ref_stats_.find(id);
  return it == ref_stats_.end() ? RefStats{} : it->second;
}

}  // namespace cannery::detail
