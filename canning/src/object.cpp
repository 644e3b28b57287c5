#include "cannery/canning/object.hpp"

#include <algorithm>
#include <utility>

#include "cannery/canning/builtins/arrays.hpp"
#include "cannery/canning/builtins/scalars.hpp"
#include "cannery/canning/format.hpp"

namespace cannery {
namespace {

[[noreturn]] void wrong_kind(const Object& o, const char* expected) {
  throw error(errc::type_mismatch,
              std::string("expected ") + expected + ", the Object holds " + o.kind_name());
}

template <class Alt>
const Alt& get(const std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double,
                                  std::complex<double>, std::string, Buffer, Object::List,
                                  Object::Dict, NDArray, Object::Extension>& v,
               const Object& o, const char* expected) {
  if (const Alt* p = std::get_if<Alt>(&v)) return *p;
  wrong_kind(o, expected);
}

Object integer_from(const Node& n) {
  // Values above INT64_MAX keep their unsigned type; all others are int64.
  try {
    return Object(n.to_integer<std::int64_t>());
  } catch (const error&) {
    return Object(n.to_integer<std::uint64_t>());
  }
}

Object list_from(const Node& items_node) {
  Object::List items;
  const std::size_t size = items_node.size();
  // Each item took at least one received byte, but becomes a whole Object.
  items_node.charge(size, sizeof(Object), "items of a list read as cannery::Object");
  items.reserve(size);
  for (std::size_t i = 0; i < size; ++i)
    items.push_back(canner<Object>::uncan(items_node[i]));
  return Object(std::move(items));
}

Object tagged_from(const Node& n) {
  std::string_view tag = n.tag();
  Node payload = n.payload();
  if (tag == format::tag_list) return list_from(payload);
  if (tag == format::tag_ndarray) return Object(payload.to_ndarray());
  if (tag == format::tag_complex) return Object(canner<std::complex<double>>::uncan(payload));
  if (tag == format::tag_bytes) return Object(payload.data_ref());
  const detail::TypeEntry* entry = detail::find_type_entry(tag);
  if (entry == nullptr) {
    n.fail(errc::unknown_tag,
           "no canner is registered for tag '" + std::string(tag) +
               "': call cannery::register_type<T>() for the C++ type that uses this tag before "
               "deserializing, or uncan with deserialize_object<T>()");
  }
  return Object(Object::Extension{entry, entry->uncan(payload)});
}

// Moves the children of a list or dict out into `pending`, leaving it empty.
// Returns false when none of them holds children of its own.
bool take_nested(Object::List* list, Object::Dict* dict, std::vector<Object>& pending) {
  auto nested = [](const Object& o) {
    return (o.kind() == Object::Kind::list && !o.to_list().empty()) ||
           (o.kind() == Object::Kind::dict && !o.to_dict().empty());
  };
  if (list != nullptr) {
    if (std::none_of(list->begin(), list->end(), nested)) return false;
    for (Object& item : *list)
      pending.push_back(std::move(item));
    list->clear();
  } else if (dict != nullptr) {
    if (std::none_of(dict->begin(), dict->end(),
                     [&](const auto& kv) { return nested(kv.second); })) {
      return false;
    }
    for (auto& kv : *dict)
      pending.push_back(std::move(kv.second));
    dict->clear();
  }
  return true;
}

}  // namespace

Object::~Object() {
  // Children that hold children are moved out into a worklist and emptied
  // one at a time, so every destructor that runs has only leaves below it.
  std::vector<Object> pending;
  if (!take_nested(std::get_if<List>(&value_), std::get_if<Dict>(&value_), pending)) return;
  while (!pending.empty()) {
    Object last = std::move(pending.back());
    pending.pop_back();
    take_nested(std::get_if<List>(&last.value_), std::get_if<Dict>(&last.value_), pending);
  }
}

std::string Object::kind_name() const {
  switch (kind()) {
    case Kind::null:
      return "null";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::complex:
      return "complex";
    case Kind::string:
      return "str";
    case Kind::bytes:
      return "bytes";
    case Kind::list:
      return "list";
    case Kind::dict:
      return "dict";
    case Kind::ndarray:
      return "ndarray";
    case Kind::extension:
      return std::get<Extension>(value_).entry->tag;
  }
  return "unknown";
}

bool Object::to_bool() const {
  return get<bool>(value_, *this, "bool");
}

std::int64_t Object::to_int64() const {
  if (const auto* u = std::get_if<std::uint64_t>(&value_)) {
    if (*u > static_cast<std::uint64_t>(INT64_MAX)) {
      throw error(errc::value_out_of_range, "integer " + std::to_string(*u) + " exceeds int64");
    }
    return static_cast<std::int64_t>(*u);
  }
  return get<std::int64_t>(value_, *this, "int");
}

std::uint64_t Object::to_uint64() const {
  if (const auto* i = std::get_if<std::int64_t>(&value_)) {
    if (*i < 0) {
      throw error(errc::value_out_of_range, "integer " + std::to_string(*i) + " is negative");
    }
    return static_cast<std::uint64_t>(*i);
  }
  return get<std::uint64_t>(value_, *this, "int");
}

double Object::to_double() const {
  if (const auto* i = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&value_)) return static_cast<double>(*u);
  return get<double>(value_, *this, "float");
}

const std::string& Object::to_string() const {
  return get<std::string>(value_, *this, "str");
}
const Buffer& Object::to_bytes() const {
  return get<Buffer>(value_, *this, "bytes");
}
const Object::List& Object::to_list() const {
  return get<List>(value_, *this, "list");
}
const Object::Dict& Object::to_dict() const {
  return get<Dict>(value_, *this, "dict");
}
Object::List& Object::to_list() {
  return const_cast<List&>(std::as_const(*this).to_list());
}
Object::Dict& Object::to_dict() {
  return const_cast<Dict&>(std::as_const(*this).to_dict());
}
const NDArray& Object::to_ndarray() const {
  return get<NDArray>(value_, *this, "ndarray");
}
const Object::Extension& Object::to_extension() const {
  return get<Extension>(value_, *this, "an extension value");
}

const Object& Object::at(std::string_view key) const {
  to_dict();  // type_mismatch when this is not a dict
  const Object* found = find(key);
  if (found == nullptr) {
    throw error(errc::type_mismatch, "dict has no key '" + std::string(key) + "'");
  }
  return *found;
}

const Object* Object::find(std::string_view key) const noexcept {
  const Dict* d = std::get_if<Dict>(&value_);
  if (d == nullptr) return nullptr;
  auto it = d->find(key);
  return it == d->end() ? nullptr : &it->second;
}

const Object& Object::at(std::size_t index) const {
  const List& l = to_list();
  if (index >= l.size()) {
    throw error(errc::shape_mismatch, "list index " + std::to_string(index) + " past its " +
                                          std::to_string(l.size()) + " items");
  }
  return l[index];
}

void canner<Object>::can(Writer& w, const Object& value) {
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::monostate>) {
          w.nil();
        } else if constexpr (std::is_same_v<V, Object::List>) {
          w.tagged(format::tag_list);
          w.array(v.size());
          for (const Object& item : v)
            w.write(item);
        } else if constexpr (std::is_same_v<V, Object::Dict>) {
          w.dict(v.size());
          for (const auto& [key, item] : v) {
            w.key(key);
            w.write(item);
          }
        } else if constexpr (std::is_same_v<V, Object::Extension>) {
          w.tagged(v.entry->tag);
          v.entry->can(w, v.value);
        } else {
          w.write(v);
        }
      },
      value.value_);
}

Object canner<Object>::uncan(const Node& n) {
  switch (n.kind()) {
    case Node::Kind::null:
      return Object();
    case Node::Kind::boolean:
      return Object(n.to_bool());
    case Node::Kind::integer:
      return integer_from(n);
    case Node::Kind::floating:
      return Object(n.to_floating<double>());
    case Node::Kind::string:
      return Object(std::string(n.to_string_view()));
    case Node::Kind::bytes:
      return Object(n.to_bytes());
    case Node::Kind::dict: {
      n.charge(n.dict_size(), sizeof(Object::Dict::value_type) + detail::node_overhead,
               "entries of a dict read as cannery::Object");
      Object::Dict entries;
      n.for_each_entry([&](std::string_view key, const Node& value) {
        // Hinted at the end: cannery writes keys in order, so each lands
        // there with one comparison instead of a walk down the tree.
        const std::size_t before = entries.size();
        entries.try_emplace(entries.end(), std::string(key), uncan(value));
        if (entries.size() == before) {
          n.fail(errc::duplicate_key, "dict names key '" + std::string(key) + "' twice");
        }
      });
      return Object(std::move(entries));
    }
    case Node::Kind::tagged:
      return tagged_from(n);
    case Node::Kind::array:
      // Plain msgpack (plain_msgpack.hpp) has untagged lists.
      if (n.context().plain) return list_from(n);
      break;
  }
  n.fail(errc::malformed_header,
         "found " + n.kind_name() + " where a value belongs; arrays must be [tag, payload]");
}

Deserialized<Object> deserialize_object(std::span<const Buffer> frames, const Limits& limits) {
  return deserialize_object<Object>(frames, limits);
}

}  // namespace cannery
