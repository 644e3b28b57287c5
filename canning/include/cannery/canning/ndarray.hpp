#pragma once
// NDArray: a NumPy-style view of a Buffer (dtype, shape, byte strides, offset).
// Constructing one checks that every element it can address lies inside its
// data, so a received NDArray can be indexed without further checks.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/dtype.hpp"
#include "cannery/canning/error.hpp"

namespace cannery {

class NDArray {
 public:
  using Shape = std::vector<std::size_t>;
  using Strides = std::vector<std::ptrdiff_t>;

  // Most dimensions an array may have (numpy's own limit).
  static constexpr std::size_t max_ndim = 32;

  NDArray() : NDArray(dtype_of<std::uint8_t>(), {0}, Buffer{}) {}

  // Strides in bytes; `offset` is the byte position of element [0, ..., 0] in
  // `data`. Throws cannery::error(shape_mismatch or limit_exceeded) when an
  // addressable element would fall outside `data`, when the array claims more
  // bytes than `data` holds, or when arithmetic on the shape would overflow.
  NDArray(DType dtype, Shape shape, Strides strides, Buffer data, std::size_t offset = 0);

  // C-order (row-major) contiguous array over `data`.
  NDArray(DType dtype, Shape shape, Buffer data);

  // 1-D array taking ownership of a vector, or viewing a span (borrowed).
  template <array_element T>
  static NDArray from_vector(std::vector<T>&& values) {
    const std::size_t n = values.size();
    return NDArray(dtype_of<T>(), {n}, {static_cast<std::ptrdiff_t>(sizeof(T))},
                   Buffer::take(std::move(values)));
  }
  template <array_element T>
  static NDArray view(std::span<const T> values) {
    return NDArray(dtype_of<T>(), {values.size()}, {static_cast<std::ptrdiff_t>(sizeof(T))},
                   Buffer::borrow(values.data(), values.size_bytes()));
  }

  const DType& dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  const Strides& strides() const noexcept { return strides_; }
  const Buffer& data() const noexcept { return data_; }
  std::size_t offset() const noexcept { return offset_; }
  std::size_t ndim() const noexcept { return shape_.size(); }
  std::size_t itemsize() const noexcept { return dtype_.itemsize; }
  std::size_t size() const noexcept { return size_; }  // number of elements
  std::size_t nbytes() const noexcept { return size_ * dtype_.itemsize; }

  bool is_c_contiguous() const noexcept;
  bool is_f_contiguous() const noexcept;

  // [first, end) byte range of `data` that the elements occupy.
  std::pair<std::size_t, std::size_t> byte_extent() const noexcept { return {low_, end_}; }

  // Address of element [0, ..., 0].
  const std::byte* first_byte() const noexcept { return data_.data() + offset_; }

  // Typed pointer to element [0, ..., 0]. Throws type_mismatch when the dtype
  // is not T in this machine's byte order, misaligned when the data is not
  // aligned for T (copy with contiguous() to get aligned storage).
  template <array_element T>
  const T* data_as() const {
    require_element(dtype_of<T>(), alignof(T));
    return reinterpret_cast<const T*>(first_byte());
  }

  // The elements in C order as a span over the received bytes; throws
  // shape_mismatch unless the array is C-contiguous.
  template <array_element T>
  std::span<const T> span() const {
    const T* p = data_as<T>();
    if (!is_c_contiguous()) {
      throw error(errc::shape_mismatch,
                  "a span needs a C-contiguous array; call contiguous() first to copy it");
    }
    return {p, size_};
  }

  // A C-contiguous, freshly allocated and aligned copy (one gather).
  NDArray contiguous() const;
  // Gather the elements in C order into `out`, which holds nbytes() bytes.
  void copy_to(std::byte* out) const;

  // Throws unless the elements can be read in place as the given native type.
  void require_element(const DType& expected, std::size_t alignment) const;

  std::string describe() const;  // e.g. "<f8 array of shape (3, 4)"

 private:
  DType dtype_;
  Shape shape_;
  Strides strides_;
  Buffer data_;
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
  std::size_t low_ = 0;
  std::size_t end_ = 0;
};

// Byte strides of a C-order (row-major) array.
NDArray::Strides c_strides(const NDArray::Shape& shape, std::size_t itemsize);

// Visit each maximal contiguous run of bytes of `array` in C order. Used by
// gathers so that a contiguous inner dimension costs one memcpy per row.
template <class Visit>
void for_each_run(const NDArray& array, Visit&& visit);

}  // namespace cannery

#include "cannery/canning/detail/ndarray_runs.hpp"
