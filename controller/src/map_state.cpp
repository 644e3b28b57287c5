#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/async_map_result.hpp"

namespace cannery::detail {

MapState::MapState(std::vector<std::size_t> counts, bool ordered, std::chrono::microseconds spin)
    : counts_(std::move(counts)), ordered_(ordered), completion_(spin), frames_(counts_.size()) {
  for (std::size_t c : counts_)
    total_ += c;
  completion_order_.reserve(counts_.size());
  if (counts_.empty()) completion_.settle();  // a map of nothing has ended
}

void MapState::succeed(std::size_t slot, int, std::vector<Buffer> frames) noexcept {
  completion_.update([&] {
    frames_[slot] = std::move(frames);
    return end_chunk(slot);
  });
}

void MapState::fail(std::size_t slot, TaskFailure why) noexcept {
  completion_.update([&] {
    if (!first_failure_) first_failure_.emplace(std::move(why));
    return end_chunk(slot);
  });
}

bool MapState::end_chunk(std::size_t slot) noexcept {
  completion_order_.push_back(slot);  // room reserved: never allocates
  elements_done_ += counts_[slot];
  return ++chunks_done_ == counts_.size();
}

MapProgress MapState::progress() const {
  std::lock_guard lock(completion_.mutex());
  return {elements_done_, total_};
}

std::vector<std::size_t> MapState::result_order() const {
  std::lock_guard lock(completion_.mutex());
  if (!ordered_) return completion_order_;
  std::vector<std::size_t> order(counts_.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  return order;
}

std::vector<Object> MapState::chunk_results_or_throw() const {
  std::lock_guard lock(completion_.mutex());
  if (first_failure_) first_failure_->raise();
  std::vector<Object> out;
  out.reserve(counts_.size());
  auto add = [&](std::size_t slot) {
    try {
      out.push_back(deserialize_object(frames_[slot]).value);
    } catch (const error& e) {
      throw error(e.code(), "result of map chunk " + std::to_string(slot) + ": " + e.message());
    }
  };
  if (ordered_) {
    for (std::size_t slot = 0; slot < counts_.size(); ++slot)
      add(slot);
  } else {
    for (std::size_t slot : completion_order_)
      add(slot);
  }
  return out;
}

}  // namespace cannery::detail
