#include "cannery/canning/dtype.hpp"

#include <bit>
#include <charconv>

#include "cannery/canning/error.hpp"

namespace cannery {
namespace {

// Item sizes numpy uses for each kind; 'V' takes any positive size up to a
// bound that keeps size arithmetic far from overflow.
bool valid_size(char kind, std::size_t size) {
  switch (kind) {
    case 'b':
      return size == 1;
    case 'i':
    case 'u':
      return size == 1 || size == 2 || size == 4 || size == 8;
    case 'f':
      return size == 2 || size == 4 || size == 8;
    case 'c':
      return size == 8 || size == 16;
    case 'V':
      return size >= 1 && size <= (std::size_t{1} << 31);
    default:
      return false;
  }
}

}  // namespace

DType DType::parse(std::string_view text) {
  auto fail = [&] {
    return error(
        errc::type_mismatch,
        "dtype '" + std::string(text.substr(0, 32)) +
            "' is not supported: use numpy's '<f8', '|u1', '<c16', '|V16' forms with kinds "
            "b, i, u, f, c or V");
  };
  if (text.size() < 3 || text.size() > 12) throw fail();
  DType d;
  d.order = text[0];
  d.kind = text[1];
  if (d.order != '<' && d.order != '>' && d.order != '|' && d.order != '=') throw fail();
  if (d.order == '=') d.order = std::endian::native == std::endian::little ? '<' : '>';
  auto digits = text.substr(2);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d.itemsize);
  if (ec != std::errc{} || end != digits.data() + digits.size() ||
      !valid_size(d.kind, d.itemsize)) {
    throw fail();
  }
  if (d.itemsize == 1 || d.kind == 'V') d.order = '|';
  return d;
}

std::string DType::str() const {
  return std::string{order, kind} + std::to_string(itemsize);
}

bool DType::is_native_order() const noexcept {
  if (order == '|') return true;
  return (order == '<') == (std::endian::native == std::endian::little);
}

bool operator==(const DType& a, const DType& b) noexcept {
  return a.kind == b.kind && a.itemsize == b.itemsize &&
         (a.itemsize == 1 || a.kind == 'V' || a.order == b.order);
}

}  // namespace cannery
