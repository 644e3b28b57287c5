// docs/protocol.md is a contract: every example content in it must decode as
// its message type and encode back to exactly itself (no field missing, extra
// or misspelt), every message type must have an example, and every field of
// a message must be in its section's table.

#include <algorithm>
#include <cannery/canning.hpp>
#include <cannery/messaging/batch.hpp>
#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/messages.hpp>
#include <catch2/catch.hpp>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace proto = cannery::protocol;
using cannery::Object;

namespace {

// Every message type of messages.hpp (batches aside: their parts are these).
using AllMessages = proto::MessageTable<
    proto::RegistrationRequest, proto::RegistrationReply, proto::RegistrationRefused,
    proto::UnknownEngine, proto::Heartbeat, proto::ApplyRequest, proto::MapRequest,
    proto::PushRequest, proto::PullRequest, proto::PutRequest, proto::ReleaseRequest,
    proto::ApplyReply, proto::ShutdownRequest, proto::FetchRequest, proto::FetchReport,
    proto::ObjectRequest, proto::ObjectReply, proto::ChunkRequest, proto::ChunkReply>;
// What the parts of each kind of batch may be (docs/protocol.md, "Batches").
using BatchRequestParts =
    proto::MessageTable<proto::ApplyRequest, proto::MapRequest, proto::PushRequest,
                        proto::PullRequest, proto::PutRequest, proto::ReleaseRequest>;
using BatchReplyParts = proto::MessageTable<proto::ApplyReply>;

template <class T>
std::vector<std::string> field_names() {
  return std::apply(
      [](const auto&... f) { return std::vector<std::string>{std::string(f.name)...}; },
      T::fields());
}

// The types of a MessageTable, with their fields.
template <class Table>
struct TableTypes;
template <proto::MessageType... Ms>
struct TableTypes<proto::MessageTable<Ms...>> {
  static std::vector<std::pair<std::string, std::vector<std::string>>> list() {
    return {{std::string(Ms::type), field_names<Ms>()}...};
  }
};

std::string read_file(const std::string& relative) {
  std::ifstream in(std::filesystem::path(CANNERY_SOURCE_DIR) / relative);
  INFO("reading " << relative);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- A JSON reader for the examples: objects, arrays, strings, integers,
// booleans, null. Floats are refused (no field of the protocol is one), and
// so is a key given twice (msgpack maps have unique keys).

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  Object document() {
    Object v = value();
    skip_space();
    if (pos_ != text_.size()) fail("text after the value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("JSON, at character " + std::to_string(pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!take(c)) fail(std::string("expected '") + c + "'");
  }
  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Object value() {
    skip_space();
    if (pos_ >= text_.size()) fail("the text ends before a value");
    const char c = text_[pos_];
    if (c == '{') return object();
    if (c == '[') return array();
    if (c == '"') return Object(string());
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    if (literal("true")) return Object(true);
    if (literal("false")) return Object(false);
    if (literal("null")) return Object(nullptr);
    fail(std::string("unexpected '") + c + "'");
  }

  Object object() {
    ++pos_;  // '{'
    Object::Dict dict;
    if (take('}')) return Object(std::move(dict));
    do {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a key");
      std::string key = string();
      expect(':');
      Object item = value();
      if (!dict.emplace(key, std::move(item)).second) fail("the key '" + key + "' comes twice");
    } while (take(','));
    expect('}');
    return Object(std::move(dict));
  }

  Object array() {
    ++pos_;  // '['
    Object::List list;
    if (take(']')) return Object(std::move(list));
    do {
      list.push_back(value());
    } while (take(','));
    expect(']');
    return Object(std::move(list));
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) fail("a \\u escape needs 4 hex digits");
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, v, 16);
    if (ec != std::errc() || end != text_.data() + pos_ + 4) fail("bad \\u escape");
    pos_ += 4;
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  std::string string() {
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail("a string does not end");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("a control character inside a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("a string does not end");
      switch (const char e = text_[pos_++]) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xd800 && cp < 0xdc00) {
            if (!literal("\\u")) fail("a lone surrogate");
            const unsigned low = hex4();
            if (low < 0xdc00 || low >= 0xe000) fail("a lone surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            fail("a lone surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(std::string("unknown escape '\\") + e + "'");
      }
    }
  }

  Object number() {
    const std::size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    const std::size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
      ++pos_;
    if (pos_ == digits) fail("a '-' without digits");
    if (text_[digits] == '0' && pos_ - digits > 1) fail("a number with a leading zero");
    if (pos_ < text_.size() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      fail("a float: the protocol's numbers are integers");
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (negative) {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(first, last, v);
      if (ec != std::errc() || end != last) fail("an integer below -2^63");
      return Object(v);
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(first, last, v);
    if (ec != std::errc() || end != last) fail("an integer above 2^64 - 1");
    // As a msgpack reader gives it: signed when it fits.
    if (v <= static_cast<std::uint64_t>(INT64_MAX)) return Object(static_cast<std::int64_t>(v));
    return Object(v);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// --- Comparing contents.

using cannery::test::integer_text;

// Where `doc` and `code` first differ ("" when they do not); integers are
// compared by value, whatever their signedness.
std::string difference(const Object& doc, const Object& code, const std::string& path) {
  const std::string at = path.empty() ? "the content" : "'" + path + "'";
  if (doc.kind() != code.kind()) {
    return at + " is a " + doc.kind_name() + " in the doc but a " + code.kind_name() +
           " when re-encoded";
  }
  switch (doc.kind()) {
    case Object::Kind::null:
      return {};
    case Object::Kind::boolean:
      return doc.to_bool() == code.to_bool() ? std::string() : at + " differs";
    case Object::Kind::integer:
      return integer_text(doc) == integer_text(code)
                 ? std::string()
                 : at + " is " + integer_text(doc) + " in the doc but " + integer_text(code) +
                       " when re-encoded";
    case Object::Kind::string:
      return doc.to_string() == code.to_string()
                 ? std::string()
                 : at + " is '" + doc.to_string() + "' in the doc but '" + code.to_string() +
                       "' when re-encoded";
    case Object::Kind::list: {
      const Object::List& a = doc.to_list();
      const Object::List& b = code.to_list();
      if (a.size() != b.size()) {
        return at + " has " + std::to_string(a.size()) + " items in the doc but " +
               std::to_string(b.size()) + " when re-encoded";
      }
      for (std::size_t i = 0; i < a.size(); ++i) {
        std::string d = difference(a[i], b[i], path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
      }
      return {};
    }
    case Object::Kind::dict: {
      const Object::Dict& a = doc.to_dict();
      const Object::Dict& b = code.to_dict();
      const std::string prefix = path.empty() ? std::string() : path + ".";
      for (const auto& [key, value] : a) {
        if (b.find(key) == b.end()) {
          return "field '" + prefix + key +
                 "' is in the doc but not in the message type (misspelt, or not a field)";
        }
      }
      for (const auto& [key, value] : b) {
        auto found = a.find(key);
        if (found == a.end()) {
          return "field '" + prefix + key + "' is missing in the doc";
        }
        std::string d = difference(found->second, value, prefix + key);
        if (!d.empty()) return d;
      }
      return {};
    }
    default:
      return at + " is a " + doc.kind_name() + ", which JSON cannot hold";
  }
}

// --- The examples.

struct Example {
  std::string type;  // the marker's
  std::size_t line = 0;
  std::string json;  // empty when no ```json block follows the marker
};

std::vector<Example> doc_examples(const std::string& doc) {
  const std::string marker = "<!-- example: ";
  const std::string fence = "```json\n";
  std::vector<Example> out;
  for (std::size_t at = doc.find(marker); at != std::string::npos; at = doc.find(marker, at + 1)) {
    Example e;
    const std::size_t name_start = at + marker.size();
    const std::size_t name_end = doc.find(" -->", name_start);
    e.type = doc.substr(name_start, name_end - name_start);
    e.line = 1 + static_cast<std::size_t>(
                     std::count(doc.begin(), doc.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
    // The block must be the very next line.
    const std::size_t next_line = doc.find('\n', name_end);
    if (next_line != std::string::npos && doc.compare(next_line + 1, fence.size(), fence) == 0) {
      const std::size_t start = next_line + 1 + fence.size();
      const std::size_t end = doc.find("\n```", start - 1);
      if (end != std::string::npos) e.json = doc.substr(start, end + 1 - start);
    }
    out.push_back(std::move(e));
  }
  return out;
}

// A batch's content, split and each part decoded as its type, then built
// again with BatchBuilder: what the code would send.
template <class Parts>
Object reencoded_batch(Object content, std::string_view batch_type, std::string_view list_field) {
  // Empty buffers, as many as the parts count (split_batch checks the sum).
  std::uint64_t total = 0;
  if (const Object* list = content.find(list_field);
      list != nullptr && list->kind() == Object::Kind::list) {
    for (const Object& part : list->to_list()) {
      const Object* frames = part.find("frames");
      if (frames != nullptr && frames->kind() == Object::Kind::integer) {
        total += frames->to_uint64();
      }
    }
  }
  if (total > 4096) throw std::runtime_error("an example batch of more than 4096 frames");
  std::vector<cannery::Buffer> buffers(static_cast<std::size_t>(total));
  std::vector<cannery::BatchPart> parts = cannery::split_batch(content, list_field, buffers);
  cannery::BatchBuilder builder;
  for (cannery::BatchPart& part : parts) {
    const bool known = Parts::dispatch(
        part.type, part.content, [&](const auto& message) { builder.add(message, part.buffers); });
    if (!known) {
      throw std::runtime_error("a " + std::string(batch_type) + " cannot hold a part of type '" +
                               part.type + "'");
    }
  }
  return Object(builder.take_content(list_field));
}

// The example's content decoded as its type and encoded again.
Object reencoded(const std::string& type, const Object& content) {
  if (type == proto::batch_request) {
    return reencoded_batch<BatchRequestParts>(content, proto::batch_request,
                                              proto::batch_requests_field);
  }
  if (type == proto::batch_reply) {
    return reencoded_batch<BatchReplyParts>(content, proto::batch_reply,
                                            proto::batch_replies_field);
  }
  Object out;
  const bool known = AllMessages::dispatch(
      type, content, [&](const auto& message) { out = Object(proto::encode(message)); });
  if (!known) throw std::runtime_error("'" + type + "' is not a message type of messages.hpp");
  return out;
}

// The section of `doc` under the heading `heading` (a whole line), up to the
// next heading of any level; empty when there is no such heading.
std::string section(const std::string& doc, const std::string& heading) {
  const std::size_t at = doc.find("\n" + heading + "\n");
  if (at == std::string::npos) return {};
  const std::size_t start = at + heading.size() + 2;
  const std::size_t end = doc.find("\n#", start);
  return doc.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

void check_fields_in(const std::string& text, const std::vector<std::string>& fields) {
  for (const std::string& name : fields) {
    INFO("field " << name);
    CHECK(text.find("| `" + name + "` |") != std::string::npos);
  }
}

}  // namespace

TEST_CASE("every example in docs/protocol.md decodes and re-encodes unchanged",
          "[messaging][protocol][docs]") {
  const std::vector<Example> examples = doc_examples(read_file("docs/protocol.md"));
  REQUIRE(!examples.empty());
  for (const Example& e : examples) {
    INFO("the " << e.type << " example at docs/protocol.md:" << e.line);
    CHECK(!e.json.empty());  // the marker must be followed at once by a ```json block
    if (e.json.empty()) continue;
    std::string problem;
    try {
      const Object content = JsonReader(e.json).document();
      problem = difference(content, reencoded(e.type, content), "");
    } catch (const std::exception& error) {
      problem = error.what();
    }
    INFO(problem);
    CHECK(problem.empty());
  }
}

TEST_CASE("every message type of messages.hpp has an example in docs/protocol.md",
          "[messaging][protocol][docs]") {
  std::map<std::string, int> examples;
  for (const Example& e : doc_examples(read_file("docs/protocol.md")))
    ++examples[e.type];

  std::vector<std::string> types;
  for (const auto& [type, fields] : TableTypes<AllMessages>::list())
    types.push_back(type);
  types.emplace_back(proto::batch_request);
  types.emplace_back(proto::batch_reply);
  for (const std::string& type : types) {
    INFO("message type " << type);
    CHECK(examples[type] >= 1);
  }

  // The table above lists every message struct of messages.hpp: one added
  // there and forgotten here fails.
  const std::string header = read_file("messaging/include/cannery/messaging/messages.hpp");
  const std::string declaration = "static constexpr std::string_view type = \"";
  std::set<std::string> declared;
  for (std::size_t at = header.find(declaration); at != std::string::npos;
       at = header.find(declaration, at + 1)) {
    const std::size_t start = at + declaration.size();
    declared.insert(header.substr(start, header.find('"', start) - start));
  }
  std::set<std::string> listed;
  for (const auto& [type, fields] : TableTypes<AllMessages>::list())
    listed.insert(type);
  CHECK(declared == listed);
}

TEST_CASE("every field of every message is in its section of docs/protocol.md",
          "[messaging][protocol][docs]") {
  const std::string doc = read_file("docs/protocol.md");
  for (const auto& [type, fields] : TableTypes<AllMessages>::list()) {
    const std::string text = section(doc, "### `" + type + "`");
    INFO("the section '### `" << type << "`'");
    REQUIRE(!text.empty());
    check_fields_in(text, fields);
  }
  // The values inside messages.
  const std::string probe = section(doc, "### `ProbeDescription`");
  REQUIRE(!probe.empty());
  check_fields_in(probe, field_names<proto::ProbeDescription>());
  const std::string segments = section(doc, "### `SegmentDescriptor` and `FramePlacement`");
  REQUIRE(!segments.empty());
  check_fields_in(segments, field_names<proto::SegmentDescriptor>());
  check_fields_in(segments, field_names<proto::FramePlacement>());
  const std::string relay_source = section(doc, "### `RelaySource`");
  REQUIRE(!relay_source.empty());
  check_fields_in(relay_source, field_names<proto::RelaySource>());
  const std::string compression = section(doc, "### `CompressionSetting`");
  REQUIRE(!compression.empty());
  check_fields_in(compression, field_names<proto::CompressionSetting>());
  // A batch part's own fields.
  const std::string batches = section(doc, "## Batches");
  REQUIRE(!batches.empty());
  check_fields_in(batches, {"type", "frames"});
}
