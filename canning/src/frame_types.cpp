#include "cannery/canning/frame_types.hpp"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/serialize.hpp"

namespace cannery {
namespace {

// "<f8" -> 8, "|V12" -> 12: the digits after byte order and kind.
std::size_t item_size_of(std::string_view dtype) {
  std::size_t size = 0;
  if (dtype.size() < 3) return 1;
  const auto [end, ec] = std::from_chars(dtype.data() + 2, dtype.data() + dtype.size(), size);
  return ec == std::errc{} && end == dtype.data() + dtype.size() && size > 0 ? size : 1;
}

// Frame index of a data reference, when it is one (not inlined bytes).
std::optional<std::size_t> frame_index(const Node& ref, std::size_t buffers) {
  if (ref.kind() != Node::Kind::integer) return std::nullopt;
  const auto index = ref.to_integer<std::uint64_t>();
  if (index >= buffers) return std::nullopt;
  return static_cast<std::size_t>(index);
}

// Walks a node (its depth is bounded by the parse) and types the buffer
// frames its arrays and bytes refer to.
void visit(const Node& node, std::span<FrameType> buffers) {
  switch (node.kind()) {
    case Node::Kind::dict:
      node.for_each_entry([&](std::string_view, const Node& value) { visit(value, buffers); });
      return;
    case Node::Kind::array:
      for (std::size_t i = 0; i < node.size(); ++i)
        visit(node[i], buffers);
      return;
    case Node::Kind::tagged: {
      const Node payload = node.payload();
      if (node.tag() == format::tag_ndarray && payload.kind() == Node::Kind::array &&
          payload.size() == 5 && payload[0].kind() == Node::Kind::string) {
        if (const auto index = frame_index(payload[3], buffers.size())) {
          const std::string_view dtype = payload[0].to_string_view();
          buffers[*index] = {std::string(dtype), item_size_of(dtype)};
        }
        return;
      }
      if (node.tag() == format::tag_bytes) {
        if (const auto index = frame_index(payload, buffers.size()))
          buffers[*index] = {std::string(format::tag_bytes), 1};
        return;
      }
      visit(payload, buffers);
      return;
    }
    default:
      return;
  }
}

}  // namespace

std::vector<FrameType> frame_types(std::span<const Buffer> frames) {
  std::vector<FrameType> types(frames.size());
  std::span<const Buffer> rest = frames;
  try {
    while (!rest.empty()) {
      const std::size_t first = frames.size() - rest.size();
      detail::ParsedHeader parsed(rest, Limits{}, detail::ParsedHeader::Purpose::peek);
      const std::size_t own = rest.size() - parsed.remaining().size();
      types[first].dtype = "header";
      visit(parsed.root(), std::span(types).subspan(first + 1, own - 1));
      rest = parsed.remaining();
    }
  } catch (const error&) {
    // Not (or no longer) canned objects: the rest stays of unknown type.
  }
  return types;
}

}  // namespace cannery
