#include "cannery/canning/node.hpp"

#include "cannery/canning/format.hpp"

namespace cannery {

Node::Kind Node::kind() const noexcept {
  switch (object_->type) {
    case msgpack::type::NIL:
      return Kind::null;
    case msgpack::type::BOOLEAN:
      return Kind::boolean;
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER:
      return Kind::integer;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return Kind::floating;
    case msgpack::type::STR:
      return Kind::string;
    case msgpack::type::BIN:
      return Kind::bytes;
    case msgpack::type::MAP:
      return Kind::dict;
    case msgpack::type::ARRAY: {
      const auto& a = object_->via.array;
      return !context_->plain && a.size == 2 && a.ptr[0].type == msgpack::type::STR ? Kind::tagged
                                                                                    : Kind::array;
    }
    default:
      return Kind::array;  // ext: not part of the format; reported as malformed
  }
}

std::string Node::kind_name() const {
  switch (kind()) {
    case Kind::null:
      return "null";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::string:
      return "str";
    case Kind::bytes:
      return "bytes";
    case Kind::dict:
      return "dict";
    case Kind::tagged:
      return "'" + std::string(tag()) + "'";
    case Kind::array:
      break;
  }
  return object_->type == msgpack::type::ARRAY ? "untagged array" : "msgpack ext";
}

void Node::charge(std::size_t count, std::size_t bytes_each, std::string_view what) const {
  if (context_->budget != nullptr) context_->budget->charge(count, bytes_each, what);
}

void Node::fail(errc code, const std::string& what) const {
  throw error(code, what);
}

void Node::fail_type(const char* expected) const {
  fail(errc::type_mismatch, std::string("expected ") + expected + ", got " + kind_name());
}

void Node::require(msgpack::type::object_type type, const char* expected) const {
  if (object_->type != type) fail_type(expected);
}

bool Node::to_bool() const {
  require(msgpack::type::BOOLEAN, "bool");
  return object_->via.boolean;
}

std::string_view Node::to_string_view() const {
  require(msgpack::type::STR, "str");
  return {object_->via.str.ptr, object_->via.str.size};
}

std::string_view Node::to_text_view() const {
  if (object_->type == msgpack::type::STR) return {object_->via.str.ptr, object_->via.str.size};
  if (object_->type == msgpack::type::BIN ||
      (kind() == Kind::tagged && tag() == format::tag_bytes)) {
    // The Buffer's bytes live in the header or a frame, not in the Buffer.
    const Buffer bytes = to_bytes();
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  fail_type("str or bytes");
}

Buffer Node::to_bytes() const {
  if (object_->type == msgpack::type::BIN) return data_ref();
  if (kind() == Kind::tagged && tag() == format::tag_bytes) return payload().data_ref();
  fail_type("bytes");
}

std::string_view Node::tag() const {
  if (kind() != Kind::tagged) fail_type("a tagged value [tag, payload]");
  const auto& s = object_->via.array.ptr[0].via.str;
  return {s.ptr, s.size};
}

Node Node::payload() const {
  if (kind() != Kind::tagged) fail_type("a tagged value [tag, payload]");
  return Node(object_->via.array.ptr[1], *context_);
}

Node Node::expect_tag(std::string_view expected) const {
  if (kind() != Kind::tagged || tag() != expected) {
    fail_type(("'" + std::string(expected) + "'").c_str());
  }
  return payload();
}

std::size_t Node::size() const {
  require(msgpack::type::ARRAY, "array");
  return object_->via.array.size;
}

Node Node::operator[](std::size_t index) const {
  if (index >= size()) {
    fail(errc::malformed_header,
         "array index " + std::to_string(index) + " past its " + std::to_string(size()) + " items");
  }
  return Node(object_->via.array.ptr[index], *context_);
}

const Node& Node::expect_size(std::size_t expected) const {
  if (size() != expected) {
    fail(errc::malformed_header, "expected an array of " + std::to_string(expected) +
                                     " items, got " + std::to_string(size()));
  }
  return *this;
}

std::size_t Node::dict_size() const {
  require(msgpack::type::MAP, "dict");
  return object_->via.map.size;
}

std::optional<Node> Node::find(std::string_view key) const {
  require(msgpack::type::MAP, "dict");
  const auto& map = object_->via.map;
  for (std::uint32_t i = 0; i < map.size; ++i) {
    const auto& k = map.ptr[i].key;
    if (k.type == msgpack::type::STR && std::string_view(k.via.str.ptr, k.via.str.size) == key) {
      return Node(map.ptr[i].val, *context_);
    }
  }
  return std::nullopt;
}

Buffer Node::data_ref() const {
  const Buffer& header = *context_->header;
  if (object_->type == msgpack::type::BIN) {
    // Bins are parsed by reference, so they point into the header frame.
    const auto* p = reinterpret_cast<const std::byte*>(object_->via.bin.ptr);
    return header.slice(static_cast<std::size_t>(p - header.data()), object_->via.bin.size);
  }
  if (object_->type == msgpack::type::POSITIVE_INTEGER) {
    std::uint64_t index = object_->via.u64;
    if (index >= context_->buffers.size()) {
      fail(errc::missing_buffers, "buffer frame " + std::to_string(index) +
                                      " is referenced but the object has " +
                                      std::to_string(context_->buffers.size()));
    }
    return context_->buffers[index];
  }
  fail_type("inline bin or buffer index");
}

NDArray Node::to_ndarray() const {
  expect_size(5);
  DType dtype = DType::parse((*this)[0].to_string_view());
  Node shape_node = (*this)[1];
  Node strides_node = (*this)[2];
  std::size_t ndim = shape_node.size();
  if (ndim > NDArray::max_ndim) {
    fail(errc::limit_exceeded, "array has " + std::to_string(ndim) + " dimensions; at most " +
                                   std::to_string(NDArray::max_ndim) + " are allowed");
  }
  strides_node.expect_size(ndim);
  NDArray::Shape shape(ndim);
  NDArray::Strides strides(ndim);
  for (std::size_t d = 0; d < ndim; ++d) {
    shape[d] = shape_node[d].to_integer<std::size_t>();
    strides[d] = strides_node[d].to_integer<std::ptrdiff_t>();
  }
  return NDArray(dtype, std::move(shape), std::move(strides), (*this)[3].data_ref(),
                 (*this)[4].to_integer<std::size_t>());
}

}  // namespace cannery
