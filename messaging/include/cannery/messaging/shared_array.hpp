#pragma once
// SharedArray<T>: an array allocated in POSIX shared memory from the start.
//
// put() normally writes each large frame once into a shared-memory segment
// for the engines on this host. An object whose arrays already live in
// shared memory needs no write at all: put() names them where they are, and
// local engines map the same pages. For data that is made once and given to
// many local engines (model weights, a lookup table), allocate it here:
//
//   std::vector<cannery::SharedArray<double>> weights;
//   weights.emplace_back(1'000'000);  // zero-filled
//   std::ranges::fill(weights.back().span(), 0.5);
//   auto ref = controller.put(std::move(weights));  // nothing copied
//
// It cans as a one-dimensional array (receivers take it as NDArray,
// std::span<const T>, Eigen::Map, std::vector, ...), or, made with rows and
// columns, as a column-major matrix (Eigen's default order: receivers take it
// as Eigen::Ref<const Eigen::MatrixXd> or Eigen::Map<const ...> in place).
// Zero copy everywhere: over sockets too, the frame is the shared memory
// itself. The segment is removed from /dev/shm when the last SharedArray,
// frame or put() reference that uses it goes. Writes made after the array
// was sent are seen by local engines that mapped it: treat what you send as
// frozen, as with any zero-copy send.

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/dtype.hpp"
#include "cannery/canning/error.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/ndarray.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

namespace detail {
// A new segment of `bytes` bytes mapped read-write and zero-filled; the
// owner unmaps it and removes its name. Throws cannery::error(io_error).
std::shared_ptr<void> create_shared_mapping(std::size_t bytes);
}  // namespace detail

template <array_element T>
class SharedArray {
 public:
  // A vector of `size` elements.
  explicit SharedArray(std::size_t size) : SharedArray(size, 1, 1) {}
  // A rows x cols matrix, column-major.
  SharedArray(std::size_t rows, std::size_t cols) : SharedArray(rows, cols, 2) {}
  // Move-only: a copy would be a second handle on the same pages, which a
  // reader of `b = a` would not expect of an array.
  // A moved-from array is empty.
  SharedArray(SharedArray&& other) noexcept
      : mapping_(std::move(other.mapping_)),
        data_(std::exchange(other.data_, nullptr)),
        rows_(std::exchange(other.rows_, 0)),
        cols_(std::exchange(other.cols_, 0)),
        ndim_(other.ndim_) {}
  SharedArray& operator=(SharedArray&& other) noexcept {
    mapping_ = std::move(other.mapping_);
    data_ = std::exchange(other.data_, nullptr);
    rows_ = std::exchange(other.rows_, 0);
    cols_ = std::exchange(other.cols_, 0);
    ndim_ = other.ndim_;
    return *this;
  }
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return rows_ * cols_; }  // elements
  std::size_t rows() const noexcept { return rows_; }
  std::size_t cols() const noexcept { return cols_; }  // 1 for a vector
  bool is_matrix() const noexcept { return ndim_ == 2; }
  // The elements in memory order (column by column for a matrix).
  std::span<T> span() noexcept { return {data_, size()}; }
  std::span<const T> span() const noexcept { return {data_, size()}; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size(); }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size(); }

  // An Eigen view of the elements (rows() x cols(), column-major), to fill
  // or read them with Eigen's expressions.
  using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  Eigen::Map<Matrix> matrix() noexcept {
    return {data_, static_cast<Eigen::Index>(rows_), static_cast<Eigen::Index>(cols_)};
  }
  Eigen::Map<const Matrix> matrix() const noexcept {
    return {data_, static_cast<Eigen::Index>(rows_), static_cast<Eigen::Index>(cols_)};
  }

  // The bytes, owned by the shared mapping (put() recognises such frames).
  Buffer buffer() const noexcept {
    return Buffer(data_, size() * sizeof(T), std::shared_ptr<const void>(mapping_, data_));
  }

  // As it is canned: a vector, or a column-major matrix.
  NDArray ndarray() const {
    constexpr auto item = static_cast<std::ptrdiff_t>(sizeof(T));
    if (!is_matrix()) return NDArray(dtype_of<T>(), {rows_}, {item}, buffer());
    return NDArray(dtype_of<T>(), {rows_, cols_}, {item, item * static_cast<std::ptrdiff_t>(rows_)},
                   buffer());
  }

 private:
  SharedArray(std::size_t rows, std::size_t cols, int ndim)
      : mapping_(detail::create_shared_mapping(checked_bytes(rows, cols))),
        data_(static_cast<T*>(mapping_.get())),
        rows_(rows),
        cols_(cols),
        ndim_(ndim) {}

  static std::size_t checked_bytes(std::size_t rows, std::size_t cols) {
    if (cols != 0 && rows > SIZE_MAX / sizeof(T) / cols) {
      throw error(errc::limit_exceeded, "a SharedArray of " + std::to_string(rows) + " x " +
                                            std::to_string(cols) +
                                            " elements would not fit in memory");
    }
    return rows * cols * sizeof(T);
  }

  std::shared_ptr<void> mapping_;
  T* data_;
  std::size_t rows_;
  std::size_t cols_;
  int ndim_;
};

template <array_element T>
struct canner<SharedArray<T>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, const SharedArray<T>& value) { w.ndarray_payload(value.ndarray()); }
};

}  // namespace cannery
