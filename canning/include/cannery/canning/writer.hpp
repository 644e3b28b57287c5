#pragma once
// Writer: what a canner writes into. It packs the header (msgpack) and
// collects the buffer frames, deciding per buffer whether it is small enough
// to inline in the header or goes out of band, uncopied.

#include <algorithm>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <msgpack.hpp>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/options.hpp"

namespace cannery {

namespace detail {

// Header storage is handed out in units aligned for any scalar, so that a
// header frame starts aligned and its inlined arrays can be viewed in place
// (see Writer::begin_inline).
using HeaderUnit = std::max_align_t;

// One block shared by the header frames of several objects canned one after
// another (the arguments of one message), each starting on a unit boundary:
// one allocation for all of them instead of one each. A header frame keeps
// the whole block alive.
class HeaderArena {
 public:
  HeaderArena() = default;
  HeaderArena(const HeaderArena&) = delete;
  HeaderArena& operator=(const HeaderArena&) = delete;

 private:
  friend class HeaderStream;
  static constexpr std::size_t block_bytes = 512;
  std::shared_ptr<HeaderUnit[]> block_;
  std::size_t used_ = 0;  // bytes, a multiple of the unit
};

// Growable header bytes that msgpack's packer writes into and that a gather
// can write into in place. The storage is shared from the start, so the
// finished header frame owns it without another allocation or copy.
class HeaderStream {
 public:
  // Most headers fit; one allocation instead of several regrowths.
  HeaderStream() { grow(initial_bytes); }
  // Two streams writing into one storage would overwrite each other.
  HeaderStream(const HeaderStream&) = delete;
  HeaderStream& operator=(const HeaderStream&) = delete;
  // Writes after the headers already in `arena`'s block (a fresh block when
  // fewer than `expected_bytes` are left); a header that outgrows the block
  // moves to storage of its own.
  explicit HeaderStream(HeaderArena& arena, std::size_t expected_bytes = initial_bytes)
      : arena_(&arena) {
    if (!arena.block_ || HeaderArena::block_bytes - arena.used_ < expected_bytes) {
      arena.block_ = std::make_shared_for_overwrite<Unit[]>(units_for(HeaderArena::block_bytes));
      arena.used_ = 0;
    }
    storage_ = arena.block_;
    base_ = arena.used_;
    capacity_ = HeaderArena::block_bytes - base_;
    arena.used_ = HeaderArena::block_bytes;  // the rest is this header's until take()
  }
  // msgpack passes (nullptr, 0) for empty bins and strings: memcpy may not see a null.
  void write(const char* data, std::size_t size) {
    if (size != 0) std::memcpy(claim(size), data, size);
  }
  // `size` zeroed bytes for the caller to fill in.
  std::byte* extend(std::size_t size) {
    std::byte* out = claim(size);
    std::memset(out, 0, size);
    return out;
  }
  std::size_t size() const noexcept { return size_; }
  // msgpack-c packs integral-valued floats as integers, which would turn 1.0
  // into an int on the wire; floats always travel as float32 / float64 here.
  void write_float(float value) { write_float_bits(0xca, std::bit_cast<std::uint32_t>(value)); }
  void write_float(double value) { write_float_bits(0xcb, std::bit_cast<std::uint64_t>(value)); }
  // The bytes written so far, as a Buffer owning them; the stream is spent.
  Buffer take() {
    const std::byte* data = bytes();
    give_back_to_arena(units_for(size_) * sizeof(Unit));
    return {data, size_, std::shared_ptr<const void>(std::move(storage_), data)};
  }

 private:
  using Unit = HeaderUnit;
  static constexpr std::size_t initial_bytes = 256;

  static std::size_t units_for(std::size_t bytes) noexcept {
    return (bytes + sizeof(Unit) - 1) / sizeof(Unit);
  }
  std::byte* bytes() noexcept { return reinterpret_cast<std::byte*>(storage_.get()) + base_; }
  std::byte* claim(std::size_t size) {
    if (capacity_ - size_ < size) grow(std::max(2 * capacity_, size_ + size));
    std::byte* out = bytes() + size_;
    size_ += size;
    return out;
  }
  template <class Bits>
  void write_float_bits(unsigned char marker, Bits bits) {
    std::byte* out = claim(1 + sizeof(Bits));
    out[0] = std::byte{marker};
    for (std::size_t i = 0; i < sizeof(Bits); ++i) {
      out[1 + i] = std::byte(bits >> (8 * (sizeof(Bits) - 1 - i)));  // big endian
    }
  }
  void grow(std::size_t capacity) {
    const std::size_t units = units_for(capacity);
    std::shared_ptr<Unit[]> bigger = std::make_shared_for_overwrite<Unit[]>(units);
    if (size_ != 0) std::memcpy(bigger.get(), bytes(), size_);
    give_back_to_arena(0);
    storage_ = std::move(bigger);
    base_ = 0;
    capacity_ = units * sizeof(Unit);
  }

  // Ends the reservation of the arena's block: this header keeps `used`
  // bytes of it. (No-op once the arena has moved on to another block.)
  void give_back_to_arena(std::size_t used) noexcept {
    if (arena_ != nullptr && storage_ == arena_->block_) arena_->used_ = base_ + used;
    arena_ = nullptr;
  }

  std::shared_ptr<Unit[]> storage_;
  std::size_t base_ = 0;  // where this header starts in storage_, in bytes
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;  // bytes from base_ to the end of storage_
  HeaderArena* arena_ = nullptr;
};
}  // namespace detail

class Writer {
 public:
  explicit Writer(const SerializeOptions& options = {}) : Writer(options, nullptr) {}
  // Writes the header into `arena`'s block, after the headers already there.
  Writer(const SerializeOptions& options, detail::HeaderArena& arena) : Writer(options, &arena) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Write any cannable value as one node (wrapped as [tag, payload] when its
  // canner has a tag). An rvalue is handed to an owning canner when there is
  // one, so its memory travels without a copy and without borrowing.
  template <class T>
  void write(T&& value) {
    using U = std::remove_cvref_t<T>;
    static_assert(cannable<U>, CANNERY_DETAIL_NOT_CANNABLE("value written"));
    enter();
    if constexpr (detail::tagged_canner<U>) tagged(canner<U>::tag);
    if constexpr (std::is_lvalue_reference_v<T> || std::is_scalar_v<U>) {
      canner<U>::can(*this, std::as_const(value));
    } else if constexpr (std::is_const_v<std::remove_reference_t<T>> &&
                         std::is_copy_constructible_v<U>) {
      // A const temporary (Eigen's eval() returns one) cannot be moved from
      // and dies after this call: lending its memory would dangle, so it is
      // copied once and the copy is handed over.
      U copy(value);
      canner<U>::can(*this, std::move(copy));
    } else if constexpr (detail::owning_canner<U>) {
      canner<U>::can(*this, std::move(value));
    } else {
      canner<U>::can(*this, std::as_const(value));
    }
    --depth_;
  }

  // Native nodes.
  void nil();
  void boolean(bool value);
  template <std::integral I>
  void integer(I value) {
    static_assert(sizeof(I) <= 8,
                  "cannery::Writer::integer: msgpack integers have 64 bits; "
                  "__int128 would be truncated");
    note_root("int");
    if constexpr (std::is_signed_v<I>) {
      packer_.pack_int64(static_cast<std::int64_t>(value));
    } else {
      packer_.pack_uint64(static_cast<std::uint64_t>(value));
    }
  }
  void floating(float value);
  void floating(double value);
  // A str node when `value` is valid UTF-8, else a bin node (bytes): msgpack
  // readers decode str as UTF-8 (Python's refuses the whole message
  // otherwise), and a std::string may hold any bytes.
  void string(std::string_view value);
  // Bytes: inlined as msgpack bin when small, else ["bytes", frame index].
  void bytes(const Buffer& value);
  // A dict of `size` entries follows: key(...) then a value, `size` times.
  void dict(std::size_t size);
  // Keys are str, never bin: throws invalid_argument unless `name` is UTF-8.
  void key(std::string_view name);
  // A tagged node [tag, payload]: the payload is written next. `tag` must
  // outlive the Writer (a literal or a registry entry's tag).
  void tagged(std::string_view tag);
  // A raw msgpack array of `size` items follows (inside a tagged payload).
  void array(std::size_t size);

  // The payload of an ndarray node for `array` (zero copy when out of band).
  void ndarray_payload(const NDArray& array);
  // The same for a 1-D C-contiguous array of `dtype` filling `data`, without
  // making the NDArray and its shape and strides vectors: the containers'
  // canners are on every small message's path. Throws invalid_argument when
  // data's size is not a whole number of items.
  void contiguous_payload(const DType& dtype, const Buffer& data);
  // The payload of a C- or F-ordered ndarray whose `nbytes` bytes `fill`
  // writes in place: into the header when small, else into a fresh frame.
  // This is how strided data is gathered without a temporary.
  template <class Fill>
  void ndarray_payload_filled(const DType& dtype, const NDArray::Shape& shape,
                              const NDArray::Strides& strides, std::size_t nbytes, Fill&& fill) {
    begin_ndarray(dtype, shape, strides);
    if (nbytes <= options_.buffer_threshold) {
      std::size_t pad = begin_inline(nbytes, element_alignment(dtype));
      fill(stream_.extend(nbytes));
      packer_.pack_uint64(pad);
    } else {
      out_of_band(Buffer::allocate(nbytes, std::forward<Fill>(fill)));
      packer_.pack_uint64(0);
    }
  }

  const SerializeOptions& options() const noexcept { return options_; }

  // Finish: the header frame and the buffer frames, in order.
  struct Result {
    std::string tag;
    Buffer header;
    std::vector<Buffer> buffers;
  };
  Result finish() &&;
  // The same frames appended to a message under construction, without the
  // tag and the Result: what pack_apply_message does for every argument.
  void finish_into(std::vector<Buffer>& frames) &&;

 private:
  Writer(const SerializeOptions& options, detail::HeaderArena* arena);
  void enter();
  void note_root(std::string_view kind) {
    if (root_kind_.empty()) root_kind_ = kind;
  }
  void begin_ndarray(const DType& dtype, std::span<const std::size_t> shape,
                     std::span<const std::ptrdiff_t> strides);
  // The bytes [low, end) of `data` hold the elements; element [0, ...] is at
  // `first` within them.
  void array_payload(const DType& dtype, std::span<const std::size_t> shape,
                     std::span<const std::ptrdiff_t> strides, const Buffer& data, std::size_t low,
                     std::size_t end, std::size_t first);
  // Bin header plus padding so that the data lands aligned; returns the pad.
  std::size_t begin_inline(std::size_t nbytes, std::size_t alignment);
  void out_of_band(Buffer buffer);
  // Packs the buffer count, which ends the header, and hands the header over.
  Buffer seal();
  static std::size_t element_alignment(const DType& dtype) noexcept;

  SerializeOptions options_;
  detail::HeaderStream stream_;
  msgpack::packer<detail::HeaderStream> packer_;
  std::vector<Buffer> buffers_;
  std::string_view root_kind_;
  std::size_t depth_ = 0;
};

}  // namespace cannery
