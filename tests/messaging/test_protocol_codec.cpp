// The protocol's codec (codec.hpp) on every message of messages.hpp: each
// round-trips, and every way a peer can get a field wrong (missing, of another
// kind, out of its bounds, an unknown enum name) is refused naming the
// message and the field. The checks walk each message's fields() list, so a
// field added later is covered as it is; a message added later needs a line
// in CodecMessages and a sample.

#include <cannery/messaging/dispatch.hpp>
#include <cannery/messaging/messages.hpp>
#include <cannery/messaging/protocol.hpp>
#include <cannery/messaging/session.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "test_support.hpp"

namespace proto = cannery::protocol;
using cannery::Buffer;
using cannery::errc;
using cannery::Object;
using Catch::Matchers::Contains;

namespace {

// --- The messages and a filled-in value of each ------------------------------------

using CodecMessages =
    std::tuple<proto::RegistrationRequest, proto::RegistrationReply, proto::RegistrationRefused,
               proto::UnknownEngine, proto::Heartbeat, proto::ApplyRequest, proto::MapRequest,
               proto::PushRequest, proto::PullRequest, proto::PutRequest, proto::ReleaseRequest,
               proto::ApplyReply, proto::ShutdownRequest, proto::FetchRequest, proto::FetchReport,
               proto::ObjectRequest, proto::ObjectReply, proto::ChunkRequest, proto::ChunkReply>;

// Every field set, none to its default (checked below), so that a round trip
// that lost one shows: the codec's concern, so a sample need not make sense
// as a whole (a fetch_report both ok and with a why).
template <class T>
T sample() = delete;

// Two segments of two frames each: enough to tell indices apart in paths.
proto::SharedMemoryDescriptor sample_descriptor() {
  return {{.segment = "/cannery-1-2-ab", .size = 8192, .frames = {{1, 0, 4096}, {3, 4096, 4000}}},
          {.segment = "/cannery-1-2-cd", .size = 1 << 20, .frames = {{4, 0, 1000}, {5, 1024, 2}}}};
}

template <>
proto::RegistrationRequest sample() {
  return {.uuid = "5b0e8f6c-2d1a-4c39-9a57-0d3c1f0e9b21",
          .pid = 4242,
          .hostname = "node-7",
          .functions = {"add", "scale"},
          .protocol = "1.0",
          .capabilities = {"batches", "shared_memory"},
          .registrations = 2,
          .shared_memory = proto::ProbeDescription{"/cannery-1-2-ef", "00ff00ff"},
          .rank = 7,
          .data_endpoint = "tcp://10.0.0.7:41721",
          .shm_domain = "3e1f9a27-5c4b-4d8e-a1f0-6b2c7d9e0f13:25:1",
          .data_curve_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"};
}

template <>
proto::RegistrationReply sample() {
  return {
      .engine_id = 3,
      .heartbeat_ms = 250,
      .allowed_misses = 4,
      .heartbeat_endpoint = "tcp://127.0.0.1:5555",
      .protocol = "1.0",
      .capabilities = {"batches"},
      .compression = proto::CompressionSetting{.codec = "auto", .min_bytes = 65536, .level = 0}};
}

template <>
proto::RegistrationRefused sample() {
  return {.protocol = "2.0", .reason = "engine 3 speaks protocol 1.0"};
}

template <>
proto::UnknownEngine sample() {
  return {};
}

template <>
proto::Heartbeat sample() {
  return {};
}

template <>
proto::ApplyRequest sample() {
  return {.task = 7, .shared_memory = sample_descriptor(), .keep_as = 40};
}

template <>
proto::MapRequest sample() {
  return {.task = 8, .count = 100, .shared_memory = sample_descriptor()};
}

template <>
proto::PushRequest sample() {
  return {.task = 9, .names = {"x", "y"}};
}

template <>
proto::PullRequest sample() {
  return {.task = 10, .name = "x"};
}

template <>
proto::PutRequest sample() {
  return {.ref = 11, .shared_memory = sample_descriptor()};
}

template <>
proto::ReleaseRequest sample() {
  return {.refs = {11, 12}};
}

template <>
proto::ApplyReply sample() {
  // The largest task id: it must survive msgpack as an unsigned integer.
  return {.task = std::numeric_limits<std::uint64_t>::max(),
          .engine_id = 3,
          .status = proto::Status::error,
          .function = "add",
          .ename = "cannery.remote_error",
          .evalue = "boom"};
}

template <>
proto::ShutdownRequest sample() {
  return {};
}

template <>
proto::FetchRequest sample() {
  // A relayed put: fallbacks end with the controller's relay socket (-1).
  // Every item carries every field, so that the walk below reaches them all.
  return {.ref = 40,
          .from_engine = 2,
          .endpoint = "tcp://10.0.0.7:41721",
          .frame_sizes = std::vector<std::uint64_t>{112, 33554432},
          .fallbacks =
              std::vector<proto::RelaySource>{
                  {.engine = 5,
                   .endpoint = "tcp://10.0.0.8:41725",
                   .curve_key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"},
                  {.engine = -1,
                   .endpoint = "tcp://0.0.0.0:40127",
                   .curve_key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"}},
          .curve_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"};
}

template <>
proto::FetchReport sample() {
  return {.ref = 40,
          .ok = true,
          .from_engines = 33554432,
          .from_controller = 112,
          .through_shared_memory = 1,
          .why = "engine 5 at tcp://10.0.0.8:41725 sent nothing for 5000 ms"};
}

template <>
proto::ObjectRequest sample() {
  return {.ref = 40};
}

template <>
proto::ObjectReply sample() {
  return {.ref = 40, .found = true};
}

template <>
proto::ChunkRequest sample() {
  return {.ref = 40,
          .offset = 1048688,
          .length = 1048576,
          .shm_domain = "3e1f9a27-5c4b-4d8e-a1f0-6b2c7d9e0f13:25:1"};
}

template <>
proto::ChunkReply sample() {
  return {.ref = 40,
          .offset = 1048688,
          .state = proto::ChunkState::shared,
          .shared_memory = sample_descriptor()};
}

// A section of its own per message: a failure in one leaves the others to run.
template <class M, class Check>
void check_in_section(Check& check) {
  SECTION(std::string(M::type)) {
    check(std::type_identity<M>{});
  }
}

// Runs check(std::type_identity<T>{}) for each message, in a section named
// after its type.
template <class Check>
void for_each_message(Check check) {
  std::apply([&]<class... Ms>(const Ms&...) { (check_in_section<Ms>(check), ...); },
             CodecMessages{});
}

// --- Walking the fields -------------------------------------------------------------

template <class V>
constexpr bool is_optional = false;
template <class V>
constexpr bool is_optional<std::optional<V>> = true;
template <class V>
constexpr bool is_list = false;
template <class V>
constexpr bool is_list<std::vector<V>> = true;

// The bounds of a field that gives none.
constexpr std::int64_t no_min = std::numeric_limits<std::int64_t>::min();
constexpr std::uint64_t no_max = std::numeric_limits<std::uint64_t>::max();
// Longer strings and lists are not tried: a bound above this is no limit a
// test needs to reach.
constexpr std::uint64_t longest_tried = 1 << 16;

template <class R, class F>
void for_each_field(F&& visit) {
  std::apply([&](const auto&... field) { (visit(field), ...); }, R::fields());
}

// The member type of a field of fields().
template <class Field>
struct value_of;
template <class R, class V>
struct value_of<proto::Field<R, V>> {
  using type = V;
};

// Field by field, through nested records, lists and optionals.
template <class V>
bool same(const V& a, const V& b) {
  if constexpr (proto::Record<V>) {
    bool all = true;
    for_each_field<V>(
        [&](const auto& field) { all = all && same(a.*field.member, b.*field.member); });
    return all;
  } else if constexpr (is_optional<V>) {
    return a.has_value() == b.has_value() && (!a || same(*a, *b));
  } else if constexpr (is_list<V>) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const auto& x, const auto& y) { return same(x, y); });
  } else {
    return a == b;
  }
}

using cannery::test::integer_text;

// A value as text, exact enough to compare two encoded messages.
std::string describe(const Object& value) {
  switch (value.kind()) {
    case Object::Kind::boolean:
      return value.to_bool() ? "true" : "false";
    case Object::Kind::integer:
      return integer_text(value);
    case Object::Kind::string:
      return "'" + value.to_string() + "'";
    case Object::Kind::list: {
      std::string out = "[";
      for (const Object& item : value.to_list())
        out += describe(item) + ", ";
      return out + "]";
    }
    case Object::Kind::dict: {
      std::string out = "{";
      for (const auto& [key, item] : value.to_dict())
        out += key + ": " + describe(item) + ", ";
      return out + "}";
    }
    default:
      return value.kind_name();
  }
}

// Where a value sits in an encoded message: the steps to it from the content
// dict, and its path as refusals name it ("shared_memory[0].frames[1].offset").
struct Place {
  std::vector<std::variant<std::string, std::size_t>> steps;
  std::string path;

  Place at(std::string_view name) const {
    Place next = *this;
    next.steps.emplace_back(std::string(name));
    next.path += (path.empty() ? "" : ".") + std::string(name);
    return next;
  }
  Place at(std::size_t index) const {
    Place next = *this;
    next.steps.emplace_back(index);
    next.path += "[" + std::to_string(index) + "]";
    return next;
  }
};

Object& value_at(Object& content, const Place& place, std::size_t depth) {
  Object* here = &content;
  for (std::size_t i = 0; i < depth; ++i) {
    const auto& step = place.steps[i];
    here = std::holds_alternative<std::string>(step)
               ? &here->to_dict().at(std::get<std::string>(step))
               : &here->to_list().at(std::get<std::size_t>(step));
  }
  return *here;
}

// `content` with the value at `place` replaced by `value`, or removed.
Object replaced(Object content, const Place& place, Object value) {
  value_at(content, place, place.steps.size()) = std::move(value);
  return content;
}

Object removed(Object content, const Place& place) {
  value_at(content, place, place.steps.size() - 1)
      .to_dict()
      .erase(std::get<std::string>(place.steps.back()));
  return content;
}

enum class Presence { required, optional, list_item };

// A value in a message and what to try in its place.
struct FieldCase {
  Place place;
  Presence presence;
  std::vector<Object> refused;   // of another kind, just out of bounds, an unknown name
  std::vector<Object> accepted;  // at the edges of its bounds
};

// Values of kinds a field of type V does not take. Null (a Python None) is
// no value of any kind.
template <class V>
std::vector<Object> wrong_kinds() {
  if constexpr (proto::Record<V>) {
    return {Object(), Object(Object::List{}), Object("a dict")};
  } else if constexpr (is_list<V>) {
    return {Object(), Object(Object::Dict{}), Object("a list")};
  } else if constexpr (std::is_same_v<V, std::string> || proto::NamedEnum<V>) {
    return {Object(), Object(7), Object(Object::List{}), Object(Buffer::copy_of("bytes"))};
  } else if constexpr (std::is_same_v<V, bool>) {
    return {Object(), Object(1), Object("true")};
  } else {
    static_assert(std::is_integral_v<V>, "a field type this test does not know");
    return {Object(), Object("12"), Object(1.5), Object(true)};
  }
}

// The values just inside and just outside a field's bounds (the field's and
// its type's); for strings and lists, of the lengths just inside and outside.
template <class V>
void add_bounds(FieldCase& c, const Object& encoded, std::int64_t min, std::uint64_t max) {
  if constexpr (proto::NamedEnum<V>) {
    for (std::string_view name : names_of(V{}))
      c.accepted.emplace_back(std::string(name));
    c.refused.emplace_back("maybe");
    c.refused.emplace_back("");
  } else if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
    const std::int64_t lo = std::max<std::int64_t>(min, std::numeric_limits<V>::min());
    const std::uint64_t hi = std::min<std::uint64_t>(max, std::numeric_limits<V>::max());
    c.accepted = {Object(lo), Object(hi)};
    if (lo > no_min) c.refused.emplace_back(lo - 1);
    if (hi < no_max) c.refused.emplace_back(hi + 1);
  } else if constexpr (std::is_same_v<V, std::string> || is_list<V>) {
    auto of_length = [&](std::uint64_t n) {
      if constexpr (is_list<V>) {
        return Object(Object::List(n, encoded.to_list().at(0)));
      } else {
        return Object(std::string(n, 'a'));
      }
    };
    const std::uint64_t lo = min > 0 ? static_cast<std::uint64_t>(min) : 0;
    c.accepted.push_back(of_length(lo));
    if (lo > 0) c.refused.push_back(of_length(lo - 1));
    if (max <= longest_tried) {
      c.accepted.push_back(of_length(max));
      c.refused.push_back(of_length(max + 1));
    }
  }
}

template <class R>
void collect_fields(const Object& encoded, const Place& place, std::vector<FieldCase>& out);

// The cases of one value of type V (encoded as `encoded`) and of all it holds.
template <class V>
void collect(const Object& encoded, const Place& place, Presence presence, std::int64_t min,
             std::uint64_t max, std::vector<FieldCase>& out) {
  FieldCase c{place, presence, wrong_kinds<V>(), {}};
  add_bounds<V>(c, encoded, min, max);
  out.push_back(std::move(c));
  if constexpr (proto::Record<V>) {
    collect_fields<V>(encoded, place, out);
  } else if constexpr (is_list<V>) {
    const Object::List& items = encoded.to_list();
    for (std::size_t i = 0; i < items.size(); ++i) {
      collect<typename V::value_type>(items[i], place.at(i), Presence::list_item, no_min, no_max,
                                      out);
    }
  }
}

// The cases of each field of a record of type R and of all they hold. A
// field is required unless its member is a std::optional.
template <class R>
void collect_fields(const Object& encoded, const Place& place, std::vector<FieldCase>& out) {
  for_each_field<R>([&](const auto& field) {
    using V = typename value_of<std::remove_cvref_t<decltype(field)>>::type;
    const Object* value = encoded.find(field.name);
    if (value == nullptr) FAIL("the sample leaves " << place.at(field.name).path << " unset");
    if constexpr (is_optional<V>) {
      collect<typename V::value_type>(*value, place.at(field.name), Presence::optional, field.min,
                                      field.max, out);
    } else {
      collect<V>(*value, place.at(field.name), Presence::required, field.min, field.max, out);
    }
  });
}

// --- Checks -------------------------------------------------------------------------

template <class T>
Object encoded_sample() {
  return Object(proto::encode(sample<T>()));
}

// Decoding `content` as T is refused as malformed, naming T and `path`.
template <class T>
void check_refused(const Object& content, const std::string& path) {
  try {
    (void)proto::decode<T>(content);
    FAIL_CHECK("accepted " << describe(content));
  } catch (const cannery::error& e) {
    CHECK(e.code() == errc::malformed_message);
    CHECK_THAT(e.what(), Contains(std::string(T::type)) && Contains("'" + path + "'"));
  }
}

// Decoding `content` as T is accepted and encodes back to the same content.
template <class T>
void check_accepted(const Object& content) {
  CHECK(describe(Object(proto::encode(proto::decode<T>(content)))) == describe(content));
}

template <class T>
void check_every_field_is_checked() {
  const Object good = encoded_sample<T>();
  std::vector<FieldCase> cases;
  collect_fields<T>(good, Place{}, cases);
  for (const FieldCase& c : cases) {
    INFO("field " << c.place.path);
    if (c.presence == Presence::required) check_refused<T>(removed(good, c.place), c.place.path);
    if (c.presence == Presence::optional) check_accepted<T>(removed(good, c.place));
    for (const Object& value : c.refused) {
      INFO("given " << describe(value));
      check_refused<T>(replaced(good, c.place, value), c.place.path);
    }
    for (const Object& value : c.accepted) {
      INFO("given " << describe(value));
      check_accepted<T>(replaced(good, c.place, value));
    }
  }
  // A content that is no dict at all.
  const cannery::error e =
      cannery::test::capture_error([] { proto::decode<T>(Object(Object::List{})); });
  CHECK(e.code() == errc::malformed_message);
  CHECK_THAT(e.what(), Contains(std::string(T::type)));
}

template <class T>
void check_round_trip() {
  const T message = sample<T>();
  const T blank{};
  for_each_field<T>([&](const auto& field) {
    INFO("the sample leaves " << field.name << " at its default");
    CHECK_FALSE(same(message.*field.member, blank.*field.member));
  });
  CHECK(same(proto::decode<T>(Object(proto::encode(message))), message));

  // Through msgpack and a signature, as a peer receives it.
  cannery::SessionOptions options;
  options.key = "codec-test-key";
  cannery::Session sender(options);
  cannery::Session receiver(options);
  const cannery::Message sent =
      proto::make_message(sender, message, nullptr, {Buffer::copy_of("payload")});
  const cannery::Message received = receiver.deserialize(sender.serialize(sent));
  CHECK(received.header.msg_type == T::type);
  REQUIRE(received.buffers.size() == 1);
  CHECK(received.buffers[0].as_string_view() == "payload");
  CHECK(same(proto::decode<T>(received), message));
}

// `content` with an entry it does not know in every dict, as a peer of a
// newer minor version may send.
Object with_unknown_fields(Object content) {
  if (content.kind() == Object::Kind::dict) {
    for (auto& entry : content.to_dict())
      entry.second = with_unknown_fields(std::move(entry.second));
    content.to_dict().emplace("added_in_1_1", Object(Object::Dict{{"x", Object(1)}}));
  } else if (content.kind() == Object::Kind::list) {
    for (Object& item : content.to_list())
      item = with_unknown_fields(std::move(item));
  }
  return content;
}

// The text of the refusal of `content` as a T.
template <class T>
std::string refusal(const Object& content) {
  const cannery::error e = cannery::test::capture_error([&] { proto::decode<T>(content); });
  CHECK(e.code() == errc::malformed_message);
  return e.what();
}

}  // namespace

TEST_CASE("every message round-trips through the codec and a signed session",
          "[messaging][protocol]") {
  for_each_message([]<class T>(std::type_identity<T>) { check_round_trip<T>(); });
}

TEST_CASE("every field of every message is checked and named when refused",
          "[messaging][protocol]") {
  for_each_message([]<class T>(std::type_identity<T>) { check_every_field_is_checked<T>(); });
}

TEST_CASE("fields a message does not know are ignored", "[messaging][protocol]") {
  for_each_message([]<class T>(std::type_identity<T>) {
    CHECK(same(proto::decode<T>(with_unknown_fields(encoded_sample<T>())), sample<T>()));
  });
}

TEST_CASE("refusals say what is wrong with the field", "[messaging][protocol]") {
  using namespace proto;
  const Place top;
  CHECK_THAT(refusal<RegistrationReply>(
                 replaced(encoded_sample<RegistrationReply>(), top.at("heartbeat_ms"), Object(0))),
             Contains("registration_reply: field 'heartbeat_ms' is 0, outside 1..3600000"));
  CHECK_THAT(refusal<PullRequest>(removed(encoded_sample<PullRequest>(), top.at("task"))),
             Contains("pull_request: field 'task' is missing"));
  CHECK_THAT(
      refusal<PullRequest>(replaced(encoded_sample<PullRequest>(), top.at("task"), Object("7"))),
      Contains("pull_request: field 'task' is a str, not a int"));
  CHECK_THAT(
      refusal<ApplyRequest>(replaced(encoded_sample<ApplyRequest>(), top.at("task"), Object(-1))),
      Contains("apply_request: field 'task' is negative"));
  CHECK_THAT(refusal<ApplyReply>(
                 replaced(encoded_sample<ApplyReply>(), top.at("status"), Object("maybe"))),
             Contains("apply_reply: field 'status' is 'maybe', not one of 'ok', 'error'"));
  const Place offset = top.at("shared_memory").at(0).at("frames").at(1).at("offset");
  CHECK(offset.path == "shared_memory[0].frames[1].offset");
  CHECK_THAT(
      refusal<PutRequest>(replaced(encoded_sample<PutRequest>(), offset, Object("4096"))),
      Contains("put_request: field 'shared_memory[0].frames[1].offset' is a str, not a int"));
}

// The values a field of T must take (at the edges of its bounds) and must
// not (just past them), as the protocol sets them: fields() could be changed
// by mistake without the walk over fields() noticing.
struct Bounds {
  std::string field;
  std::vector<Object> accepted;
  std::vector<Object> refused;
};

template <class T>
void check_bounds(const std::vector<Bounds>& all) {
  const Object good = encoded_sample<T>();
  for (const Bounds& bounds : all) {
    const Place place = Place{}.at(bounds.field);
    for (const Object& value : bounds.accepted) {
      INFO(bounds.field << " given " << describe(value));
      check_accepted<T>(replaced(good, place, value));
    }
    for (const Object& value : bounds.refused) {
      INFO(bounds.field << " given " << describe(value));
      check_refused<T>(replaced(good, place, value), place.path);
    }
  }
}

TEST_CASE("bounded fields take the values the protocol allows and no others",
          "[messaging][protocol]") {
  constexpr std::int64_t int_max = std::numeric_limits<int>::max();
  const auto text = [](std::size_t length) { return Object(std::string(length, 'u')); };
  check_bounds<proto::RegistrationReply>({
      {"heartbeat_ms", {Object(1), Object(3'600'000)}, {Object(0), Object(3'600'001)}},
      {"allowed_misses", {Object(1), Object(1'000'000)}, {Object(0), Object(1'000'001)}},
      {"engine_id", {Object(0), Object(int_max)}, {Object(-1), Object(int_max + 1)}},
  });
  check_bounds<proto::RegistrationRequest>({
      {"uuid", {text(1), text(248)}, {text(0), text(249)}},
      {"pid", {Object(0), Object(int_max)}, {Object(-1), Object(int_max + 1)}},
      {"shm_domain", {text(1), text(255)}, {text(0), text(256)}},
      {"data_curve_key", {text(40)}, {text(39), text(41)}},
  });
  // -1, the controller's relay socket, since 1.3.
  check_bounds<proto::FetchRequest>({
      {"from_engine", {Object(-1), Object(int_max)}, {Object(-2), Object(int_max + 1)}},
      {"endpoint", {text(1), text(1024)}, {text(0), text(1025)}},
      {"curve_key", {text(40)}, {text(39), text(41)}},
  });
  check_bounds<proto::FetchReport>({
      {"why", {text(0), text(4096)}, {text(4097)}},
  });
  check_bounds<proto::ChunkRequest>({
      {"shm_domain", {text(1), text(255)}, {text(0), text(256)}},
  });
  check_bounds<proto::ApplyReply>({
      {"engine_id", {Object(-1), Object(int_max)}, {Object(-2), Object(int_max + 1)}},
      {"task", {Object(0), Object(std::numeric_limits<std::uint64_t>::max())}, {Object(-1)}},
  });
}

TEST_CASE("the protocol version is major.minor and only the major version must agree",
          "[messaging][protocol]") {
  using proto::Version;
  CHECK(proto::to_string(Version{1, 0}) == "1.0");
  CHECK(proto::parse_version("1.0") == Version{1, 0});
  CHECK(proto::parse_version("1.7") == Version{1, 7});
  CHECK(proto::parse_version("12.34") == Version{12, 34});
  CHECK(proto::parse_version(proto::to_string(proto::version)) == proto::version);
  for (const char* text : {"x", "1", "", "1.", ".1", "1.0.0", "-1.0", "1.-1", "1.x", " 1.0", "1.0 ",
                           "+1.0", "99999999999.0"}) {
    INFO("'" << text << "'");
    CHECK_FALSE(proto::parse_version(text));
  }

  const Version ours{1, 0};
  CHECK_FALSE(proto::incompatibility("1.0", ours, "engine 3"));
  CHECK_FALSE(proto::incompatibility("1.7", ours, "engine 3"));
  const std::optional<std::string> newer = proto::incompatibility("2.0", ours, "engine 3");
  REQUIRE(newer);
  CHECK_THAT(*newer, Contains("engine 3") && Contains("2.0") && Contains("1.0"));
  for (const char* text : {"x", "1", ""}) {
    INFO("'" << text << "'");
    const std::optional<std::string> why = proto::incompatibility(text, ours, "the controller");
    REQUIRE(why);
    CHECK_THAT(*why, Contains("the controller") && Contains("'" + std::string(text) + "'") &&
                         Contains("1.0"));
  }

  const std::vector<std::string> named{std::string(proto::capability::batches)};
  CHECK(proto::has_capability(named, proto::capability::batches));
  CHECK_FALSE(proto::has_capability(named, proto::capability::shared_memory));
}

TEST_CASE("a message table calls the handler of the message's type", "[messaging][protocol]") {
  using namespace proto;
  using Inbox = MessageTable<Heartbeat, PullRequest, ApplyReply>;
  std::vector<std::string> calls;
  const auto handler = overloaded{
      [&](Heartbeat) { calls.emplace_back("heartbeat"); },
      [&](PullRequest pull) { calls.push_back("pull " + pull.name); },
      [&](ApplyReply reply) { calls.push_back("reply " + std::to_string(reply.engine_id)); }};

  CHECK(Inbox::contains(PullRequest::type));
  CHECK_FALSE(Inbox::contains(PushRequest::type));
  CHECK(Inbox::dispatch(PullRequest::type, encoded_sample<PullRequest>(), handler));
  CHECK(Inbox::dispatch(Heartbeat::type, Object(Object::Dict{}), handler));
  CHECK(Inbox::dispatch(ApplyReply::type, encoded_sample<ApplyReply>(), handler));
  CHECK(calls == std::vector<std::string>{"pull x", "heartbeat", "reply 3"});

  SECTION("a type the table does not hold is left to the caller") {
    CHECK_FALSE(Inbox::dispatch(PushRequest::type, encoded_sample<PushRequest>(), handler));
    CHECK_FALSE(Inbox::dispatch("", Object(Object::Dict{}), handler));
    CHECK(calls.size() == 3);
  }
  SECTION("a content that does not fit is refused before the handler runs") {
    const Object bad = replaced(encoded_sample<PullRequest>(), Place{}.at("name"), Object(7));
    const cannery::error e =
        cannery::test::capture_error([&] { Inbox::dispatch(PullRequest::type, bad, handler); });
    CHECK(e.code() == errc::malformed_message);
    CHECK_THAT(e.what(), Contains("pull_request") && Contains("'name'"));
    CHECK(calls.size() == 3);
  }
  SECTION("a message read as another type is refused") {
    cannery::SessionOptions options;
    options.key = "codec-test-key";
    cannery::Session session(options);
    const cannery::Message pull = make_message(session, sample<PullRequest>());
    CHECK(proto::decode<PullRequest>(pull).name == "x");
    const cannery::error e =
        cannery::test::capture_error([&] { proto::decode<PushRequest>(pull); });
    CHECK(e.code() == errc::malformed_message);
    CHECK_THAT(e.what(), Contains("push_request") && Contains("pull_request"));
  }
}
