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

  CheckedCreate() : Base(reference_everything, nullptr, msgpack::unpack_limit()) {}

  // Ready for a new value of `bytes` bytes, built in `zone`.
  void restart(std::size_t bytes, std::size_t max_depth, msgpack::zone& zone) {
    budget_ = bytes;
    max_depth_ = max_depth;
    depth_ = 0;
    set_zone(zone);
  }

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

  std::size_t budget_ = 0;
  std::size_t max_depth_ = 0;
  std::size_t depth_ = 0;
};

// msgpack-c's parser and object builder each keep their stack in a
// std::vector; made afresh for each frame they cost several heap allocations
// per message. One pair per thread is reused instead: a parse runs to its end
// (or throws) before the next one starts, and init() resets both.
struct ReusableParser {
  CheckedCreate create;
  msgpack::v2::detail::parse_helper<CheckedCreate> helper{create};
};

// Zones are reused per thread: a fresh zone costs a heap allocation per
// message. Nested parses (an Object converted while another is being read)
// simply take another zone from the pool.
constexpr std::size_t zone_pool_size = 8;

struct ThreadScratch {
  ThreadScratch() { zones.reserve(zone_pool_size); }  // returning a zone never allocates
  std::vector<std::unique_ptr<msgpack::zone>> zones;
  ReusableParser parser;
};

// The default TLS model of a shared library calls __tls_get_addr on every
// access, and a thread_local with a constructor adds an initialisation
// check that does the same: together 5% of receiving a small message. So
// the fast path reads a plain pointer in the initial-exec model (the library
// is loaded with the program, or with the program that dlopens a plugin, so
// it fits in the static TLS block); the scratch itself is made once per
// thread on the slow path, and destroyed when the thread exits.
[[gnu::tls_model("initial-exec")]] thread_local ThreadScratch* this_thread_scratch = nullptr;

struct ScratchOwner {
  ThreadScratch scratch;
  ~ScratchOwner() { this_thread_scratch = nullptr; }
};

[[gnu::noinline]] ThreadScratch& make_scratch() {
  thread_local ScratchOwner owner;
  this_thread_scratch = &owner.scratch;
  return owner.scratch;
}

ThreadScratch& scratch() {
  if (this_thread_scratch != nullptr) [[likely]]
    return *this_thread_scratch;
  return make_scratch();
}

std::vector<std::unique_ptr<msgpack::zone>>& zone_pool() {
  return scratch().zones;
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
  ReusableParser& parser = scratch().parser;
  try {
    if (bytes.empty()) parser.create.insufficient_bytes(0, 0);
    parser.create.restart(bytes.size(), max_depth, zone);
    parser.helper.init();
    std::size_t offset = 0;
    const msgpack::v2::parse_return result = parser.helper.execute(data, bytes.size(), offset);
    if (result == msgpack::v2::PARSE_CONTINUE) parser.create.insufficient_bytes(offset, offset);
    if (result != msgpack::v2::PARSE_SUCCESS || offset != bytes.size()) {
      throw error(errc::malformed_header,
                  std::string(what) + " holds more than one msgpack value or is cut short");
    }
    return parser.create.data();
  } catch (const error&) {
    throw;
  } catch (const std::exception& e) {
    throw error(errc::malformed_header, std::string(what) + " is not valid msgpack: " + e.what());
  }
}

}  // namespace cannery::detail
