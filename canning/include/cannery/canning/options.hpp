#pragma once
// Knobs for the sending side (SerializeOptions) and bounds for the receiving
// side (Limits). Defaults suit messages of up to a few GB of arrays.

#include <cstddef>

namespace cannery {

struct SerializeOptions {
  // Buffers of at most this many bytes are copied into the header frame;
  // larger ones travel as frames of their own, uncopied (IPython's default).
  std::size_t buffer_threshold = 1024;
  // Deepest nesting of containers the writer follows before it refuses.
  std::size_t max_depth = 64;
};

class DecodeBudget;

// Which DecodeBudget (decode_budget.hpp) the reads given a Limits draw
// from; none: each deserialize_object call has a budget of its own. It
// points into one message's reading (an ApplyMessage, or a budget you made
// for a message), so a copy of the Limits holding it is not linked: only
// the Limits itself, passed by reference, can reach the budget, and no copy
// can outlive the message it points into.
class BudgetLink {
 public:
  BudgetLink() = default;
  BudgetLink(const BudgetLink&) noexcept {}
  BudgetLink& operator=(const BudgetLink&) noexcept {
    budget_ = nullptr;
    return *this;
  }
  void link(DecodeBudget* budget) noexcept { budget_ = budget; }
  DecodeBudget* get() const noexcept { return budget_; }

 private:
  DecodeBudget* budget_ = nullptr;
};

struct Limits {
  // Deepest nesting of containers in a received header.
  std::size_t max_depth = 64;
  // Most buffer frames one object may claim.
  std::size_t max_buffers = 65536;
  // Largest header frame accepted (inlined buffers count here).
  std::size_t max_header_bytes = std::size_t{64} << 20;

  // The decode budget: memory that decoding one message may allocate beyond
  // a copy of the bytes that arrived. Copies of arrived bytes (arrays,
  // strings, bytes) are not counted: no array may stand for more bytes than
  // arrived. What is counted is what a count or a shape asks for: the nodes
  // of decoded trees (136 bytes per cannery::Object, a list item of one
  // byte; an entry of a dict, Object or std::map, with its key and tree
  // node; sizeof(T) per item of a list read as std::vector<T>), and the
  // outer starts of a sparse matrix, which its shape sets (a change of
  // storage order makes them as many as the other dimension). The budget of
  // a message is
  //   decoded_bytes_per_byte x (bytes of every object read from it: header
  //   and buffer frames) + decoded_bytes_allowance, once per message,
  // where a message is one deserialize_object call, or every argument of one
  // ApplyMessage (the reads given its limits()), or whatever shares a
  // DecodeBudget you link below. A read past it is refused with
  // limit_exceeded naming these two fields. So a list of a million nils
  // (1 MB: 136 MB of Objects) is refused by default, and read with
  // decoded_bytes_per_byte = 160. (Parsing a header costs msgpack up to 24
  // bytes per byte besides, bounded by max_header_bytes.)
  std::size_t decoded_bytes_per_byte = 32;
  std::size_t decoded_bytes_allowance = std::size_t{64} << 20;
  // Links the reads given these Limits (by reference) to one shared budget.
  BudgetLink shared_budget;
};

}  // namespace cannery
