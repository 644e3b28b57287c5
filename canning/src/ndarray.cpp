#include "cannery/canning/ndarray.hpp"

#include <cstring>
#include <limits>

namespace cannery {
namespace {

[[noreturn]] void overflow(const char* what) {
  throw error(errc::limit_exceeded,
              std::string("array ") + what +
                  " overflows 64-bit arithmetic; the sender's shape or strides "
                  "are corrupt");
}

std::ptrdiff_t checked_span(std::size_t extent, std::ptrdiff_t stride) {
  std::ptrdiff_t count = 0;
  std::ptrdiff_t result = 0;
  if (extent > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) ||
      __builtin_sub_overflow(static_cast<std::ptrdiff_t>(extent), 1, &count) ||
      __builtin_mul_overflow(count, stride, &result)) {
    overflow("strides");
  }
  return result;
}

}  // namespace

NDArray::Strides c_strides(const NDArray::Shape& shape, std::size_t itemsize) {
  NDArray::Strides strides(shape.size());
  std::size_t step = itemsize;
  for (std::size_t d = shape.size(); d-- > 0;) {
    strides[d] = static_cast<std::ptrdiff_t>(step);
    if (shape[d] != 0 && __builtin_mul_overflow(step, shape[d], &step)) overflow("shape");
  }
  return strides;
}

NDArray::NDArray(DType dtype, Shape shape, Buffer data)
    : NDArray(dtype, shape, c_strides(shape, dtype.itemsize), std::move(data)) {}

NDArray::NDArray(DType dtype, Shape shape, Strides strides, Buffer data, std::size_t offset)
    : dtype_(dtype),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      data_(std::move(data)),
      offset_(offset) {
  if (shape_.size() > max_ndim) {
    throw error(errc::limit_exceeded, "array has " + std::to_string(shape_.size()) +
                                          " dimensions; at most " + std::to_string(max_ndim) +
                                          " are allowed");
  }
  if (strides_.size() != shape_.size()) {
    throw error(errc::shape_mismatch, "array has " + std::to_string(shape_.size()) +
                                          " dimensions but " + std::to_string(strides_.size()) +
                                          " strides");
  }
  size_ = 1;
  for (std::size_t extent : shape_) {
    // Extents are signed in numpy and in Eigen: one past PTRDIFF_MAX would
    // turn negative there, even in an empty array.
    if (extent > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) ||
        __builtin_mul_overflow(size_, extent, &size_)) {
      overflow("shape");
    }
  }
  std::size_t bytes = 0;
  if (__builtin_mul_overflow(size_, dtype_.itemsize, &bytes)) overflow("size");
  // A received array may never stand for more bytes than arrived: this keeps
  // any owning copy of it within the size of the message.
  if (bytes > data_.size()) {
    throw error(errc::shape_mismatch, describe() + " needs " + std::to_string(bytes) +
                                          " bytes but its data has " +
                                          std::to_string(data_.size()));
  }
  // Checked even for an empty array: first_byte() must point into the data.
  if (offset_ > data_.size()) {
    throw error(errc::shape_mismatch, "array offset " + std::to_string(offset_) +
                                          " lies past its data of " + std::to_string(data_.size()) +
                                          " bytes");
  }
  if (size_ == 0) return;
  std::ptrdiff_t low = static_cast<std::ptrdiff_t>(offset_);
  std::ptrdiff_t high = low;
  for (std::size_t d = 0; d < shape_.size(); ++d) {
    std::ptrdiff_t span = checked_span(shape_[d], strides_[d]);
    if (__builtin_add_overflow(span < 0 ? low : high, span, span < 0 ? &low : &high)) {
      overflow("strides");
    }
  }
  std::ptrdiff_t end = 0;
  if (__builtin_add_overflow(high, static_cast<std::ptrdiff_t>(dtype_.itemsize), &end)) {
    overflow("strides");
  }
  if (low < 0 || end > static_cast<std::ptrdiff_t>(data_.size())) {
    throw error(errc::shape_mismatch,
                describe() + " with strides and offset " + std::to_string(offset_) +
                    " reaches outside its data of " + std::to_string(data_.size()) + " bytes");
  }
  low_ = static_cast<std::size_t>(low);
  end_ = static_cast<std::size_t>(end);
}

bool NDArray::is_c_contiguous() const noexcept {
  if (size_ <= 1) return true;
  std::size_t step = dtype_.itemsize;
  for (std::size_t d = shape_.size(); d-- > 0;) {
    if (shape_[d] == 1) continue;
    if (strides_[d] != static_cast<std::ptrdiff_t>(step)) return false;
    step *= shape_[d];
  }
  return true;
}

bool NDArray::is_f_contiguous() const noexcept {
  if (size_ <= 1) return true;
  std::size_t step = dtype_.itemsize;
  for (std::size_t d = 0; d < shape_.size(); ++d) {
    if (shape_[d] == 1) continue;
    if (strides_[d] != static_cast<std::ptrdiff_t>(step)) return false;
    step *= shape_[d];
  }
  return true;
}

void NDArray::copy_to(std::byte* out) const {
  for_each_run(*this, [&](const std::byte* src, std::size_t n) {
    std::memcpy(out, src, n);
    out += n;
  });
}

NDArray NDArray::contiguous() const {
  return NDArray(dtype_, shape_, Buffer::allocate(nbytes(), [&](std::byte* out) { copy_to(out); }));
}

void NDArray::require_element(const DType& expected, std::size_t alignment) const {
  if (!(dtype_ == expected) || !dtype_.is_native_order()) {
    throw error(errc::type_mismatch,
                "expected elements of dtype " + expected.str() + ", got " + describe());
  }
  if (reinterpret_cast<std::uintptr_t>(first_byte()) % alignment != 0) {
    throw error(errc::misaligned,
                describe() +
                    " is not aligned for in-place access; uncan to an owning type "
                    "or call contiguous() to copy it into aligned memory");
  }
}

std::string NDArray::describe() const {
  std::string text = dtype_.str() + " array of shape (";
  for (std::size_t d = 0; d < shape_.size(); ++d) {
    text += (d ? ", " : "") + std::to_string(shape_[d]);
  }
  if (shape_.size() == 1) text += ",";
  return text + ")";
}

}  // namespace cannery
