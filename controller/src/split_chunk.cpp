// A map chunk's reply -> one Object per element. Engines reply with a list,
// or with a 1-D ndarray when the results are numbers (docs/protocol.md,
// "map_request").
#include <complex>
#include <cstdint>
#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/async_map_result.hpp"

namespace cannery::detail {
namespace {

// Checked before any element is copied: the reply came from an engine.
std::string count_message(std::size_t count, std::size_t got) {
  return "a map chunk of " + std::to_string(count) + " elements came back with " +
         std::to_string(got) + " results";
}

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

// Kind and size, whatever the byte order: uncanning to std::vector<T>
// converts the order.
template <class T>
bool holds_elements_of(const DType& d) {
  const DType wanted = dtype_of<T>();
  return d.kind == wanted.kind && d.itemsize == wanted.itemsize;
}

// Appends the elements as the first of `T...` whose dtype they have; false
// when none has it.
template <class... T>
bool append_first_matching(std::vector<Object>& out, const Object& reply) {
  const DType& d = reply.to_ndarray().dtype();
  return ((holds_elements_of<T>(d) && (append_as<T>(out, reply), true)) || ...);
}

std::vector<Object> split_ndarray(const Object& reply, std::size_t count) {
  const NDArray& a = reply.to_ndarray();
  if (a.ndim() != 1) {
    throw error(errc::shape_mismatch,
                "a map chunk's result is a " + a.describe() + "; expected a 1-D array");
  }
  if (a.size() != count) throw error(errc::shape_mismatch, count_message(count, a.size()));
  std::vector<Object> out;
  out.reserve(count);
  if (!append_first_matching<double, float, std::int64_t, std::int32_t, std::int16_t, std::int8_t,
                             std::uint64_t, std::uint32_t, std::uint16_t, std::uint8_t, bool,
                             std::complex<double>, std::complex<float>>(out, reply)) {
    throw error(errc::type_mismatch, "a map chunk's result is a " + a.describe() +
                                         "; ask for get<T>() with its element type");
  }
  return out;
}

}  // namespace

std::vector<Object> split_chunk(const Object& reply, std::size_t count) {
  if (reply.kind() == Object::Kind::ndarray) return split_ndarray(reply, count);
  if (reply.kind() != Object::Kind::list) {
    throw error(errc::type_mismatch, "a map chunk's result is a " + reply.kind_name() +
                                         "; engines reply with a list or a 1-D array");
  }
  const Object::List& items = reply.to_list();
  if (items.size() != count) throw error(errc::shape_mismatch, count_message(count, items.size()));
  return items;
}

}  // namespace cannery::detail
