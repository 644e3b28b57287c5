// A map chunk's reply -> one Object per element. Engines reply with a list,
// or with a 1-D ndarray when the results are numbers (protocol.hpp).
#include <complex>
#include <cstdint>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/async_map_result.hpp"

namespace cannery::detail {
namespace {

template <class T>
void append_as(std::vector<Object>& out, const Object& reply) {
  for (const T& v : reply.as<std::vector<T>>()) {
    if constexpr (std::is_same_v<T, float>) {
      out.emplace_back(static_cast<double>(v));
    } else if constexpr (std::is_same_v<T, std::complex<float>>) {
      out.emplace_back(std::complex<double>(v));
    } else {
      out.emplace_back(v);
    }
  }
}

std::vector<Object> split_ndarray(const Object& reply) {
  const NDArray& a = reply.to_ndarray();
  if (a.ndim() != 1) {
    throw error(errc::shape_mismatch,
                "a map chunk's result is a " + a.describe() + "; expected a 1-D array");
  }
  std::vector<Object> out;
  out.reserve(a.size());
  const DType& d = a.dtype();
  const std::size_t size = d.itemsize;
  if (d.kind == 'f' && size == 8)
    append_as<double>(out, reply);
  else if (d.kind == 'f' && size == 4)
    append_as<float>(out, reply);
  else if (d.kind == 'i' && size == 8)
    append_as<std::int64_t>(out, reply);
  else if (d.kind == 'i' && size == 4)
    append_as<std::int32_t>(out, reply);
  else if (d.kind == 'i' && size == 2)
    append_as<std::int16_t>(out, reply);
  else if (d.kind == 'i' && size == 1)
    append_as<std::int8_t>(out, reply);
  else if (d.kind == 'u' && size == 8)
    append_as<std::uint64_t>(out, reply);
  else if (d.kind == 'u' && size == 4)
    append_as<std::uint32_t>(out, reply);
  else if (d.kind == 'u' && size == 2)
    append_as<std::uint16_t>(out, reply);
  else if (d.kind == 'u' && size == 1)
    append_as<std::uint8_t>(out, reply);
  else if (d.kind == 'b')
    append_as<bool>(out, reply);
  else if (d.kind == 'c' && size == 16)
    append_as<std::complex<double>>(out, reply);
  else if (d.kind == 'c' && size == 8)
    append_as<std::complex<float>>(out, reply);
  else {
    throw error(errc::type_mismatch, "a map chunk's result is a " + a.describe() +
                                         "; ask for get<T>() with its element type");
  }
  return out;
}

}  // namespace

std::vector<Object> split_chunk(const Object& reply, std::size_t count) {
  std::vector<Object> out;
  if (reply.kind() == Object::Kind::list) {
    out = reply.to_list();
  } else if (reply.kind() == Object::Kind::ndarray) {
    out = split_ndarray(reply);
  } else {
    throw error(errc::type_mismatch, "a map chunk's result is a " + reply.kind_name() +
                                         "; engines reply with a list or a 1-D array");
  }
  if (out.size() != count) {
    throw error(errc::shape_mismatch, "a map chunk of " + std::to_string(count) +
                                          " elements came back with " + std::to_string(out.size()) +
                                          " results");
  }
  return out;
}

}  // namespace cannery::detail
