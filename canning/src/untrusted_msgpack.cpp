// Parsing of msgpack from untrusted bytes, shared by the header frame parser
// and the plain-msgpack codec: sizes are checked before msgpack allocates.

#include "cannery/canning/detail/untrusted_msgpack.hpp"

#include <string>
#include <vector>

#include "cannery/canning/error.hpp"

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

void ZoneReturn::operator()(msgpack::zone* zone) const noexcept {
  zone->clear();
  auto& pool = zone_pool();
  if (pool.size() < zone_pool_size) {
    pool.emplace_back(zone);
  } else {
    delete zone;
  }
}

PooledZone take_pooled_zone() {
  return PooledZone(take_zone().release());
}

msgpack::object parse_untrusted(const Buffer& bytes, std::size_t max_depth, msgpack::zone& zone,
                                std::string_view what) {
  const char* data = reinterpret_cast<const char*>(bytes.data());
  try {
    CheckedCreate create(bytes.size(), max_depth);
    create.set_zone(zone);
    std::size_t offset = 0;
    if (!msgpack::v2::parse(data, bytes.size(), offset, create) || offset != bytes.size()) {
      throw error(errc::malformed_header,
                  std::string(what) + " holds more than one msgpack value or is cut short");
    }
    return create.data();
  } catch (const error&) {
    throw;
  } catch (const std::exception& e) {
    throw error(errc::malformed_header, std::string(what) + " is not valid msgpack: " + e.what());
  }
}

}  // namespace cannery::detail
