// Parsing of a received header frame. Everything here treats the bytes as
// hostile: sizes are checked before msgpack allocates for them.

#include <vector>

#include "cannery/canning/format.hpp"
#include "cannery/canning/serialize.hpp"

namespace cannery::detail {
namespace {

// msgpack-c allocates room for an array's items as soon as it reads the
// array's declared length, before the items arrive; a few bytes claiming
// billions of items would allocate gigabytes. This visitor builds msgpack's
// tree in the same single pass as msgpack::unpack, but first refuses a
// header whose declared items add up to more than its bytes (every item
// takes at least one byte), and nesting deeper than the limit, so nothing
// is allocated for a claim that was not checked.
class CheckedCreate : public msgpack::v2::detail::create_object_visitor {
  using Base = msgpack::v2::detail::create_object_visitor;

 public:
  // Strings and bins point into the header frame instead of being copied.
  static bool reference_everything(msgpack::type::object_type, std::size_t, void*) { return true; }

  CheckedCreate(std::size_t bytes, std::size_t max_depth)
      : Base(reference_everything, nullptr, msgpack::unpack_limit()),
        budget_(bytes),
        max_depth_(max_depth) {}

  bool start_array(std::uint32_t items) { return claim(items) && Base::start_array(items); }
  bool end_array() { return leave() && Base::end_array(); }
  bool start_map(std::uint32_t entries) {
    return claim(std::size_t{2} * entries) && Base::start_map(entries);
  }
  bool end_map() { return leave() && Base::end_map(); }
  void parse_error(std::size_t, std::size_t) {
    throw error(errc::malformed_header, "header frame is not valid msgpack");
  }
  void insufficient_bytes(std::size_t, std::size_t) {
    throw error(errc::truncated_header, "header frame ends in the middle of a value");
  }

 private:
  bool claim(std::size_t items) {
    if (items > budget_) {
      throw error(errc::malformed_header,
                  "header declares more items than it has bytes; it is truncated or corrupt");
    }
    budget_ -= items;
    if (++depth_ > max_depth_) {
      throw error(errc::limit_exceeded, "header nests deeper than Limits::max_depth (" +
                                            std::to_string(max_depth_) + ")");
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  std::size_t budget_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

// Zones are reused per thread: a fresh zone costs a heap allocation per
// message. Nested parses (an Object converted while another is being read)
// simply take another zone from the pool.
constexpr std::size_t zone_pool_size = 8;
std::vector<std::unique_ptr<msgpack::zone>>& zone_pool() {
  thread_local std::vector<std::unique_ptr<msgpack::zone>> pool = [] {
    std::vector<std::unique_ptr<msgpack::zone>> empty;
    empty.reserve(zone_pool_size);  // returning a zone never allocates
    return empty;
  }();
  return pool;
}

std::unique_ptr<msgpack::zone> take_zone() {
  auto& pool = zone_pool();
  if (pool.empty()) return std::make_unique<msgpack::zone>();
  std::unique_ptr<msgpack::zone> zone = std::move(pool.back());
  pool.pop_back();
  return zone;
}

}  // namespace

void ParsedHeader::ZoneReturn::operator()(msgpack::zone* zone) const noexcept {
  zone->clear();
  auto& pool = zone_pool();
  if (pool.size() < zone_pool_size) {
    pool.emplace_back(zone);
  } else {
    delete zone;
  }
}

ParsedHeader::ParsedHeader(std::span<const Buffer> frames, const Limits& limits) {
  if (frames.empty()) {
    throw error(errc::missing_buffers, "no frames left: expected a header frame");
  }
  const Buffer& header = frames.front();
  if (header.size() > limits.max_header_bytes) {
    throw error(errc::limit_exceeded, "header frame of " + std::to_string(header.size()) +
                                          " bytes exceeds Limits::max_header_bytes (" +
                                          std::to_string(limits.max_header_bytes) + ")");
  }
  const char* data = reinterpret_cast<const char*>(header.data());
  zone_.reset(take_zone().release());
  msgpack::object top;
  try {
    CheckedCreate create(header.size(), limits.max_depth + 2);  // +2: header array, tag wrapper
    create.set_zone(*zone_);
    std::size_t offset = 0;
    if (!msgpack::v2::parse(data, header.size(), offset, create) || offset != header.size()) {
      throw error(errc::malformed_header,
                  "header frame holds more than one msgpack value or is cut short");
    }
    top = create.data();
  } catch (const error&) {
    throw;
  } catch (const std::exception& e) {
    throw error(errc::malformed_header,
                std::string("header frame is not valid msgpack: ") + e.what());
  }
  if (top.type != msgpack::type::ARRAY || top.via.array.size != 3) {
    throw error(errc::malformed_header,
                "header frame is not [version, root, buffer_count]; is this a cannery frame?");
  }
  const msgpack::object* items = top.via.array.ptr;
  if (items[0].type != msgpack::type::POSITIVE_INTEGER) {
    throw error(errc::malformed_header, "header frame does not start with a format version");
  }
  if (items[0].via.u64 != format::version) {
    throw error(errc::version_mismatch,
                "header uses format version " + std::to_string(items[0].via.u64) +
                    "; this build reads version " + std::to_string(format::version) +
                    ": upgrade the older side");
  }
  if (items[2].type != msgpack::type::POSITIVE_INTEGER) {
    throw error(errc::malformed_header, "header frame's buffer count is not an unsigned integer");
  }
  std::uint64_t nbuffers = items[2].via.u64;
  if (nbuffers > limits.max_buffers) {
    throw error(errc::limit_exceeded, "object claims " + std::to_string(nbuffers) +
                                          " buffer frames; Limits::max_buffers is " +
                                          std::to_string(limits.max_buffers));
  }
  if (nbuffers > frames.size() - 1) {
    throw error(errc::missing_buffers,
                "object needs " + std::to_string(nbuffers) + " buffer frames but only " +
                    std::to_string(frames.size() - 1) + " frames follow its header");
  }
  root_ = &items[1];
  context_.header = header;
  context_.buffers = frames.subspan(1, nbuffers);
  context_.limits = limits;
  remaining_ = frames.subspan(1 + nbuffers);
}

ParsedHeader::~ParsedHeader() = default;

}  // namespace cannery::detail
