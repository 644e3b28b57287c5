#include "cannery/messaging/batch.hpp"

#include <string>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/detail/content_fields.hpp"
#include "cannery/messaging/protocol.hpp"

namespace cannery {

void BatchBuilder::add(Object::Dict content, std::span<const Buffer> buffers) {
  content.insert_or_assign(std::string(protocol::frames), Object(buffers.size()));
  parts_.emplace_back(std::move(content));
  buffers_.insert(buffers_.end(), buffers.begin(), buffers.end());
}

Object::Dict BatchBuilder::take_content(std::string_view list_field) {
  return Object::Dict{{std::string(list_field), Object(std::exchange(parts_, {}))}};
}

std::vector<BatchPart> split_batch(Object& content, std::string_view list_field,
                                   std::span<Buffer> buffers) {
  auto malformed = [&](const std::string& what) {
    return error(errc::malformed_message, "a batch whose '" + std::string(list_field) + "' " +
                                              what + ": the peer does not follow protocol.hpp");
  };
  if (content.kind() != Object::Kind::dict) throw malformed("is missing: the content is no dict");
  auto list = content.to_dict().find(list_field);
  if (list == content.to_dict().end() || list->second.kind() != Object::Kind::list) {
    throw malformed("is missing or not a list");
  }
  Object::List& parts = list->second.to_list();
  std::size_t total = 0;
  std::vector<std::size_t> counts;
  counts.reserve(parts.size());
  for (const Object& part : parts) {
    const std::int64_t n = detail::int_field(part, protocol::frames).value_or(-1);
    if (n < 0) throw malformed("holds a part without a non-negative integer 'frames'");
    if (static_cast<std::uint64_t>(n) > buffers.size() - total) {
      throw malformed("counts more frames than the " + std::to_string(buffers.size()) +
                      " that arrived");
    }
    total += static_cast<std::size_t>(n);
    counts.push_back(static_cast<std::size_t>(n));
  }
  if (total != buffers.size()) {
    throw malformed("counts " + std::to_string(total) + " frames, but " +
                    std::to_string(buffers.size()) + " arrived");
  }
  std::vector<BatchPart> out;
  out.reserve(parts.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    parts[i].to_dict().erase(std::string(protocol::frames));
    out.push_back({std::move(parts[i]), buffers.subspan(offset, counts[i])});
    offset += counts[i];
  }
  return out;
}

}  // namespace cannery
