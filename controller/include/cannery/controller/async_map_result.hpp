#pragma once
// AsyncMapResult: the future of a map() — many chunks, one result per element.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <iostream>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "cannery/canning/builtins/arrays.hpp"
#include "cannery/canning/builtins/containers.hpp"
#include "cannery/canning/dtype.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/controller/async_result.hpp"
#include "cannery/controller/detail/completion.hpp"
#include "cannery/controller/detail/task_sink.hpp"

namespace cannery {

struct MapProgress {
  std::size_t done = 0;   // elements whose chunk has ended
  std::size_t total = 0;  // elements in the map
};

namespace detail {

class MapState final : public TaskSink {
 public:
  // One slot per chunk, `counts[i]` elements in chunk i; `spin` as for
  // TaskState.
  MapState(std::vector<std::size_t> counts, bool ordered, std::chrono::microseconds spin = {});

  void succeed(std::size_t slot, int engine_id, std::vector<Buffer> frames) noexcept override;
  void fail(std::size_t slot, TaskFailure why) noexcept override;

  bool ready() const noexcept { return completion_.settled(); }
  bool wait(std::chrono::milliseconds timeout) const { return completion_.wait(timeout); }
  MapProgress progress() const;
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }

  // After a successful wait: each chunk's result as an Object, in the order
  // get() promises; throws the first failure.
  std::vector<Object> chunk_results_or_throw() const;
  const std::vector<std::size_t>& counts() const noexcept { return counts_; }
  // Chunk indices in the order chunk_results_or_throw() gives them.
  std::vector<std::size_t> result_order() const;

 private:
  // Counts chunk `slot` as ended (the mutex held); true when it was the last.
  bool end_chunk(std::size_t slot) noexcept;

  const std::vector<std::size_t> counts_;
  const bool ordered_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::size_t total_ = 0;
  Completion completion_;  // its mutex guards everything below
  std::vector<std::vector<Buffer>> frames_;
  std::vector<std::size_t> completion_order_;
  std::size_t chunks_done_ = 0;
  std::size_t elements_done_ = 0;
  std::optional<TaskFailure> first_failure_;
};

// A chunk's reply (a list, or a 1-D ndarray of numbers) as `count` Objects.
std::vector<Object> split_chunk(const Object& reply, std::size_t count);

template <class R>
void append_chunk(std::vector<R>& out, const Object& reply, std::size_t count) {
  if constexpr (std::is_same_v<R, Object>) {
    for (Object& o : split_chunk(reply, count))
      out.push_back(std::move(o));
  } else if constexpr (array_element<R>) {
    if (reply.kind() == Object::Kind::ndarray) {
      auto values = reply.as<std::vector<R>>();
      if (values.size() != count) split_chunk(reply, count);  // throws the size error
      out.insert(out.end(), values.begin(), values.end());
      return;
    }
    for (const Object& o : split_chunk(reply, count))
      out.push_back(o.as<R>());
  } else {
    for (const Object& o : split_chunk(reply, count))
      out.push_back(o.as<R>());
  }
}

}  // namespace detail

class AsyncMapResult {
 public:
  AsyncMapResult() = default;
  explicit AsyncMapResult(std::shared_ptr<detail::MapState> state) : state_(std::move(state)) {}

  bool ready() const;
  bool wait(std::chrono::milliseconds timeout) const;
  MapProgress progress() const;

  // Waits like wait(), drawing a progress bar on `out`: one line redrawn with
  // '\r' on a terminal, just a final summary line otherwise. True when done.
  bool wait_interactive(std::ostream& out = std::cerr,
                        std::chrono::milliseconds timeout = default_wait_timeout) const;

  // One result per input element: in input order (MapOptions::ordered) or in
  // the order chunks completed. Throws the first chunk's failure (RemoteError,
  // EngineDied, error(timeout)) or error(timeout) when `timeout` passes first.
  template <class R = Object>
  std::vector<R> get(std::chrono::milliseconds timeout = default_wait_timeout) const {
    if (!wait(timeout)) detail::throw_wait_timeout(timeout, "the map's results");
    std::vector<Object> chunks = state().chunk_results_or_throw();
    std::vector<std::size_t> order = state().result_order();
    std::vector<R> out;
    out.reserve(progress().total);
    for (std::size_t i = 0; i < chunks.size(); ++i)
      detail::append_chunk(out, chunks[i], state().counts()[order[i]]);
    return out;
  }

  bool valid() const noexcept { return state_ != nullptr; }

 private:
  const detail::MapState& state() const;
  std::shared_ptr<detail::MapState> state_;
};

}  // namespace cannery
