#include "cannery/canning/apply.hpp"

namespace cannery {

void canner<detail::ApplyHeader>::can(Writer& w, const detail::ApplyHeader& h) {
  w.dict(3);
  w.key("function");
  w.write(h.function);
  w.key("nargs");
  w.write(h.nargs);
  w.key("kwargs");
  w.write(h.kwargs);
}

detail::ApplyHeader canner<detail::ApplyHeader>::uncan(const Node& n) {
  auto field = [&](std::string_view name) {
    auto found = n.find(name);
    if (!found) n.fail(errc::malformed_header, "apply header has no '" + std::string(name) + "'");
    return *found;
  };
  return {field("function").as<std::string>(), field("nargs").as<std::size_t>(),
          field("kwargs").as<std::vector<std::string>>()};
}

ApplyMessage::ApplyMessage(std::span<const Buffer> frames, const Limits& limits)
    : frames_(frames),
      limits_(limits),
      budget_(limits),
      external_budget_(limits.shared_budget.get()) {
  auto [header, rest] = deserialize_object<detail::ApplyHeader>(frames, this->limits());
  header_ = std::move(header);
  remaining_ = rest;
}

std::span<const Buffer> ApplyMessage::next_arg_frames() {
  if (args_read_ >= header_.nargs) {
    throw error(errc::invalid_argument, "'" + header_.function + "' was sent " +
                                            std::to_string(header_.nargs) +
                                            " positional arguments; asked for one more");
  }
  try {
    PeekedObject peeked = peek_object(remaining_, limits());
    remaining_ = peeked.remaining;
    ++args_read_;
    return peeked.frames;
  } catch (const error& e) {
    throw error(e.code(), "argument " + std::to_string(args_read_) + " of '" + header_.function +
                              "': " + e.message());
  }
}

}  // namespace cannery
