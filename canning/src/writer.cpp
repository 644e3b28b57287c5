#include "cannery/canning/writer.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>

#include "cannery/canning/detail/utf8.hpp"
#include "cannery/canning/error.hpp"
#include "cannery/canning/format.hpp"

namespace cannery {

// The stream is made in place (a moved one would cost a store-forwarding
// stall on every object canned).
Writer::Writer(const SerializeOptions& options, detail::HeaderArena* arena)
    : options_(options),
      stream_(arena != nullptr ? detail::HeaderStream(*arena) : detail::HeaderStream()),
      packer_(stream_) {
  // Header frame: [format_version, root_node, buffer_count].
  packer_.pack_array(3);
  packer_.pack_uint64(format::version);
}

void Writer::enter() {
  if (++depth_ > options_.max_depth) {
    depth_ = 0;
    throw error(errc::limit_exceeded,
                "value nests deeper than SerializeOptions::max_depth (" +
                    std::to_string(options_.max_depth) +
                    "); raise the limit, or look for a structure that contains itself");
  }
}

void Writer::tagged(std::string_view tag) {
  note_root(tag);
  packer_.pack_array(2);
  packer_.pack(tag);
}

void Writer::nil() {
  note_root("null");
  packer_.pack_nil();
}

void Writer::boolean(bool value) {
  note_root("bool");
  value ? packer_.pack_true() : packer_.pack_false();
}

void Writer::floating(float value) {
  note_root("float");
  stream_.write_float(value);
}

void Writer::floating(double value) {
  note_root("float");
  stream_.write_float(value);
}

void Writer::string(std::string_view value) {
  if (!detail::is_valid_utf8(value)) {
    note_root("bytes");
    packer_.pack_bin(static_cast<std::uint32_t>(value.size()));
    packer_.pack_bin_body(value.data(), static_cast<std::uint32_t>(value.size()));
    return;
  }
  note_root("str");
  packer_.pack(value);
}

void Writer::key(std::string_view name) {
  if (!detail::is_valid_utf8(name)) {
    throw error(errc::invalid_argument,
                "dict key of " + std::to_string(name.size()) +
                    " bytes is not valid UTF-8: keys travel as msgpack str, which readers decode "
                    "as UTF-8; use text keys (a std::string value that is not UTF-8 travels as "
                    "bytes, a key cannot)");
  }
  packer_.pack(name);
}

void Writer::dict(std::size_t size) {
  note_root("dict");
  packer_.pack_map(static_cast<std::uint32_t>(size));
}

void Writer::array(std::size_t size) {
  packer_.pack_array(static_cast<std::uint32_t>(size));
}

void Writer::bytes(const Buffer& value) {
  if (value.size() <= options_.buffer_threshold) {
    note_root("bytes");
    packer_.pack_bin(static_cast<std::uint32_t>(value.size()));
    packer_.pack_bin_body(reinterpret_cast<const char*>(value.data()),
                          static_cast<std::uint32_t>(value.size()));
  } else {
    tagged(format::tag_bytes);
    out_of_band(value);
  }
}

void Writer::begin_ndarray(const DType& dtype, std::span<const std::size_t> shape,
                           std::span<const std::ptrdiff_t> strides) {
  // ndarray payload: [dtype, shape, strides, data, offset].
  packer_.pack_array(5);
  packer_.pack(dtype.str());
  packer_.pack_array(static_cast<std::uint32_t>(shape.size()));
  for (std::size_t extent : shape)
    packer_.pack_uint64(extent);
  packer_.pack_array(static_cast<std::uint32_t>(strides.size()));
  for (std::ptrdiff_t stride : strides)
    packer_.pack_int64(stride);
}

void Writer::ndarray_payload(const NDArray& array) {
  // Send only the bytes the array can address.
  auto [low, end] = array.byte_extent();
  // Unless its elements share bytes (a stride shorter than an item, or 0):
  // those bytes are fewer than the array stands for, which no receiver
  // accepts, so each element goes with bytes of its own.
  if (array.size() != 0 && end - low < array.nbytes()) {
    ndarray_payload(array.contiguous());
    return;
  }
  // An empty array sends no bytes, so its element [0, ...] sits at the start.
  std::size_t first = array.size() == 0 ? 0 : array.offset() - low;
  array_payload(array.dtype(), array.shape(), array.strides(), array.data(), low, end, first);
}

void Writer::contiguous_payload(const DType& dtype, const Buffer& data) {
  if (dtype.itemsize == 0 || data.size() % dtype.itemsize != 0) {
    throw error(errc::invalid_argument, std::to_string(data.size()) +
                                            " bytes are not a whole number of " + dtype.str() +
                                            " items; pass the bytes of the elements only");
  }
  const std::size_t shape[] = {data.size() / dtype.itemsize};
  const std::ptrdiff_t strides[] = {static_cast<std::ptrdiff_t>(dtype.itemsize)};
  array_payload(dtype, shape, strides, data, 0, data.size(), 0);
}

void Writer::array_payload(const DType& dtype, std::span<const std::size_t> shape,
                           std::span<const std::ptrdiff_t> strides, const Buffer& data,
                           std::size_t low, std::size_t end, std::size_t first) {
  begin_ndarray(dtype, shape, strides);
  if (end - low <= options_.buffer_threshold) {
    std::size_t pad = begin_inline(end - low, element_alignment(dtype));
    if (end > low) std::memcpy(stream_.extend(end - low), data.data() + low, end - low);
    packer_.pack_uint64(first + pad);
  } else {
    out_of_band(data.slice(low, end - low));
    packer_.pack_uint64(first);
  }
}

std::size_t Writer::begin_inline(std::size_t nbytes, std::size_t alignment) {
  // The header frame starts at an allocation aligned to at least 8 bytes on
  // both sides, so aligning the data's offset within the frame aligns it in
  // memory and lets the receiver view small arrays in place. A bin32 header
  // keeps the header length independent of the pad.
  constexpr std::size_t bin32_header = 5;
  std::size_t start = stream_.size() + bin32_header;
  std::size_t pad = (alignment - start % alignment) % alignment;
  std::byte* head = stream_.extend(bin32_header + pad);
  std::uint32_t length = static_cast<std::uint32_t>(pad + nbytes);
  head[0] = std::byte{0xc6};
  for (int i = 0; i < 4; ++i)
    head[1 + i] = std::byte(length >> (24 - 8 * i));
  std::fill(head + bin32_header, head + bin32_header + pad, std::byte{0});
  return pad;
}

void Writer::out_of_band(Buffer buffer) {
  packer_.pack_uint64(buffers_.size());
  buffers_.push_back(std::move(buffer));
}

std::size_t Writer::element_alignment(const DType& dtype) noexcept {
  return std::min<std::size_t>(format::max_inline_alignment, std::bit_floor(dtype.itemsize));
}

Buffer Writer::seal() {
  packer_.pack_uint64(buffers_.size());
  return stream_.take();
}

Writer::Result Writer::finish() && {
  Result result;
  result.tag = std::string(root_kind_);
  result.header = seal();
  result.buffers = std::move(buffers_);
  return result;
}

void Writer::finish_into(std::vector<Buffer>& frames) && {
  frames.push_back(seal());
  frames.insert(frames.end(), std::make_move_iterator(buffers_.begin()),
                std::make_move_iterator(buffers_.end()));
}

}  // namespace cannery
