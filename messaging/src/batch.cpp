#include "cannery/messaging/batch.hpp"

#include <string>
#include <utility>

#include "cannery/canning/error.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery {
namespace {

constexpr std::string_view type_field = "type";
constexpr std::string_view frames_field = "frames";

// What a batch says about each of its parts, read with the protocol's codec:
// a batch_request's parts name their type, a batch_reply's are apply_replies.
struct RequestPart {
  std::string type;
  std::uint64_t frames = 0;
  static constexpr auto fields() {
    return std::tuple{protocol::field(type_field, &RequestPart::type, 1, 64),
                      protocol::field(frames_field, &RequestPart::frames)};
  }
};
struct ReplyPart {
  std::uint64_t frames = 0;
  static constexpr auto fields() {
    return std::tuple{protocol::field(frames_field, &ReplyPart::frames)};
  }
};

}  // namespace

void BatchBuilder::add(std::string_view type, Object::Dict content,
                       std::span<const Buffer> buffers) {
  if (!type.empty()) content.insert_or_assign(std::string(type_field), Object(std::string(type)));
  content.insert_or_assign(std::string(frames_field), Object(buffers.size()));
  parts_.emplace_back(std::move(content));
  buffers_.insert(buffers_.end(), buffers.begin(), buffers.end());
}

Object::Dict BatchBuilder::take_content(std::string_view list_field) {
  // Not an initializer list: its elements are const, so the map would copy
  // every part's tree instead of moving the list in.
  Object::Dict content;
  content.emplace(std::string(list_field), Object(std::exchange(parts_, {})));
  return content;
}

std::vector<BatchPart> split_batch(Object& content, std::string_view list_field,
                                   std::span<Buffer> buffers) {
  // Named for error texts by what it holds: requests or replies.
  const bool requests = list_field == protocol::batch_requests_field;
  const std::string_view batch_type = requests ? protocol::batch_request : protocol::batch_reply;
  const protocol::detail::Where where(batch_type, nullptr, list_field);
  const Object* list = content.find(list_field);
  if (list == nullptr) protocol::detail::refuse(where, "is missing");
  if (list->kind() != Object::Kind::list) protocol::detail::wrong_kind(where, *list, "list");
  Object::List& parts = content.to_dict().find(list_field)->second.to_list();
  std::vector<RequestPart> headers;
  headers.reserve(parts.size());
  std::size_t total = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (requests) {
      headers.push_back(protocol::detail::decode_record<RequestPart>(parts[i], where.at(i)));
    } else {
      headers.push_back({std::string(protocol::ApplyReply::type),
                         protocol::detail::decode_record<ReplyPart>(parts[i], where.at(i)).frames});
    }
    if (headers.back().frames > buffers.size() - total) {
      protocol::detail::refuse(
          where.at(i).at(frames_field),
          "counts more frames than the " + std::to_string(buffers.size()) + " that arrived");
    }
    total += static_cast<std::size_t>(headers.back().frames);
  }
  if (total != buffers.size()) {
    protocol::detail::refuse(where, "counts " + std::to_string(total) + " frames, but " +
                                        std::to_string(buffers.size()) + " arrived");
  }
  std::vector<BatchPart> out;
  out.reserve(parts.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto n = static_cast<std::size_t>(headers[i].frames);
    out.push_back({std::move(headers[i].type), std::move(parts[i]), buffers.subspan(offset, n)});
    offset += n;
  }
  return out;
}

}  // namespace cannery
