// Parsing of msgpack from untrusted bytes, shared by the header frame parser
// and the plain-msgpack codec: sizes are checked before msgpack allocates.

#include "cannery/canning/detail/untrusted_msgpack.hpp"

#include <algorithm>
#include <cstdint>
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

  // Ready for a new value of `bytes` bytes, built in `zone`; errors name
  // `what` (a canned object's "header frame", a message's "content", ...).
  void restart(std::size_t bytes, std::size_t max_depth, msgpack::zone& zone,
               std::string_view what) {
    budget_ = bytes;
    max_depth_ = max_depth;
    depth_ = 0;
    what_ = what;
    set_zone(zone);
  }

  bool start_array(std::uint32_t items) { return claim(items) && Base::start_array(items); }
  bool end_array() { return leave() && Base::end_array(); }
  bool start_map(std::uint32_t entries) {
    return claim(std::size_t{2} * entries) && Base::start_map(entries);
  }
  bool end_map() { return leave() && Base::end_map(); }
  void parse_error(std::size_t, std::size_t) {
    throw error(errc::malformed_header, std::string(what_) + " is not valid msgpack");
  }
  void insufficient_bytes(std::size_t, std::size_t) {
    throw error(errc::truncated_header, std::string(what_) + " ends in the middle of a value");
  }

 private:
  bool claim(std::size_t items) {
    if (items > budget_) {
      throw error(errc::malformed_header,
                  std::string(what_) +
                      " declares more items than it has bytes; it is truncated or corrupt");
    }
    budget_ -= items;
    if (++depth_ > max_depth_) {
      throw error(errc::limit_exceeded, std::string(what_) +
                                            " nests deeper than Limits::max_depth (" +
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
  std::string_view what_;
};

// Fills StringFields from a map as msgpack's parser walks it. Only events at
// depth 1 (the map's own keys and values) matter; deeper ones belong to
// values being skipped.
class StringFieldsVisitor : public msgpack::null_visitor {
 public:
  void restart(std::size_t max_depth, std::span<StringField> fields, std::string_view what) {
    what_ = what;
    max_depth_ = max_depth;
    fields_ = fields;
    depth_ = 0;
    entries_ = 0;
    in_key_ = false;
    wanted_ = nullptr;
  }
  std::size_t entries() const noexcept { return entries_; }
  void init() {}  // msgpack's parser calls it; restart() did the work

  bool start_map(std::uint32_t entries) {
    if (depth_ == 0) entries_ = entries;
    not_a_string_here();
    return enter();
  }
  bool start_array(std::uint32_t) {
    if (depth_ == 0) fail("is a list, not a dict");
    not_a_string_here();
    return enter();
  }
  bool end_map() { return leave(); }
  bool end_array() { return leave(); }
  bool start_map_key() {
    if (depth_ == 1) {
      in_key_ = true;
      wanted_ = nullptr;
    }
    return true;
  }
  bool end_map_key() {
    if (depth_ == 1) in_key_ = false;
    return true;
  }
  bool visit_str(const char* data, std::uint32_t size) {
    if (depth_ == 0) fail("is a string, not a dict");
    if (depth_ != 1) return true;
    const std::string_view text(data, size);
    if (in_key_) {
      auto it = std::find_if(fields_.begin(), fields_.end(),
                             [&](const StringField& f) { return f.key == text; });
      wanted_ = it == fields_.end() ? nullptr : &*it;
    } else if (wanted_ != nullptr) {
      wanted_->value->assign(text);
      wanted_->found = true;
    }
    return true;
  }
  bool visit_nil() { return other(); }
  bool visit_boolean(bool) { return other(); }
  bool visit_positive_integer(std::uint64_t) { return other(); }
  bool visit_negative_integer(std::int64_t) { return other(); }
  bool visit_float32(float) { return other(); }
  bool visit_float64(double) { return other(); }
  bool visit_bin(const char*, std::uint32_t) { return other(); }
  bool visit_ext(const char*, std::uint32_t) { return other(); }
  void parse_error(std::size_t, std::size_t) { fail("is not valid msgpack"); }
  void insufficient_bytes(std::size_t, std::size_t) {
    throw error(errc::truncated_header, std::string(what_) + " ends in the middle of a value");
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw error(errc::malformed_header, std::string(what_) + " " + problem);
  }
  // A value that is not a string, or a container, where depth_ says.
  void not_a_string_here() const {
    if (depth_ != 1) return;
    if (in_key_) fail("has a key that is not a string");
    if (wanted_ != nullptr) fail("'" + std::string(wanted_->key) + "' is not a string");
  }
  bool other() {
    if (depth_ == 0) fail("is not a dict");
    not_a_string_here();
    return true;
  }
  bool enter() {
    if (++depth_ > max_depth_) {
      throw error(errc::limit_exceeded, std::string(what_) +
                                            " nests deeper than Limits::max_depth (" +
                                            std::to_string(max_depth_) + ")");
    }
    return true;
  }
  bool leave() {
    --depth_;
    return true;
  }

  std::string_view what_;
  std::size_t max_depth_ = 0;
  std::span<StringField> fields_;
  std::size_t depth_ = 0;
  std::size_t entries_ = 0;
  bool in_key_ = false;
  StringField* wanted_ = nullptr;  // the field whose value comes next
};

// msgpack-c's parser and object builder each keep their stack in a
// std::vector; made afresh for each frame they cost several heap allocations
// per message. One pair per thread is reused instead: a parse runs to its end
// (or throws) before the next one starts, and init() resets both.
struct ReusableParser {
  CheckedCreate create;
  msgpack::v2::detail::parse_helper<CheckedCreate> helper{create};
  StringFieldsVisitor fields;
  msgpack::v2::detail::parse_helper<StringFieldsVisitor> fields_helper{fields};
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

namespace {

// Runs a reused parser over exactly one msgpack value filling `bytes`;
// errors name `what`.
template <class Visitor>
void parse_whole(msgpack::v2::detail::parse_helper<Visitor>& helper, Visitor& visitor,
                 const Buffer& bytes, std::string_view what) {
  const char* data = reinterpret_cast<const char*>(bytes.data());
  try {
    if (bytes.empty()) visitor.insufficient_bytes(0, 0);
    helper.init();
    std::size_t offset = 0;
    const msgpack::v2::parse_return result = helper.execute(data, bytes.size(), offset);
    if (result == msgpack::v2::PARSE_CONTINUE) visitor.insufficient_bytes(offset, offset);
    if (result != msgpack::v2::PARSE_SUCCESS || offset != bytes.size()) {
      throw error(errc::malformed_header,
                  std::string(what) + " holds more than one msgpack value or is cut short");
    }
  } catch (const error&) {
    throw;
  } catch (const std::exception& e) {
    throw error(errc::malformed_header, std::string(what) + " is not valid msgpack: " + e.what());
  }
}

}  // namespace

msgpack::object parse_untrusted(const Buffer& bytes, std::size_t max_depth, msgpack::zone& zone,
                                std::string_view what) {
  ReusableParser& parser = scratch().parser;
  parser.create.restart(bytes.size(), max_depth, zone, what);
  parse_whole(parser.helper, parser.create, bytes, what);
  return parser.create.data();
}

std::size_t read_string_fields(const Buffer& bytes, std::size_t max_depth,
                               std::span<StringField> fields, std::string_view what) {
  ReusableParser& parser = scratch().parser;
  parser.fields.restart(max_depth, fields, what);
  parse_whole(parser.fields_helper, parser.fields, bytes, what);
  return parser.fields.entries();
}

}  // namespace cannery::detail
