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
//   weights.emplace_back(1'000'000);          // zero-filled
//   fill(weights.back().span());
//   auto ref = controller.put(std::move(weights));   // nothing copied
//
// It cans as a one-dimensional array (receivers take it as NDArray,
// std::span<const T>, Eigen::Map, std::vector, ...), zero copy everywhere:
// over sockets too, the frame is the shared memory itself. The segment is
// removed from /dev/shm when the last SharedArray, frame or put() reference
// that uses it goes. Writes made after the array was sent are seen by local
// engines that mapped it: treat what you send as frozen, as with any
// zero-copy send.

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/canner.hpp"
#include "cannery/canning/dtype.hpp"
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
  explicit SharedArray(std::size_t size)
      : mapping_(detail::create_shared_mapping(size * sizeof(T))),
        data_(static_cast<T*>(mapping_.get())),
        size_(size) {}
  // Move-only: a copy would be a second handle on the same pages, which a
  // reader of `b = a` would not expect of an array.
  // A moved-from array is empty.
  SharedArray(SharedArray&& other) noexcept
      : mapping_(std::move(other.mapping_)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  SharedArray& operator=(SharedArray&& other) noexcept {
    mapping_ = std::move(other.mapping_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  SharedArray(const SharedArray&) = delete;
  SharedArray& operator=(const SharedArray&) = delete;

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<T> span() noexcept { return {data_, size_}; }
  std::span<const T> span() const noexcept { return {data_, size_}; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T* begin() noexcept { return data_; }
  T* end() noexcept { return data_ + size_; }
  const T* begin() const noexcept { return data_; }
  const T* end() const noexcept { return data_ + size_; }

  // The bytes, owned by the shared mapping (put() recognises such frames).
  Buffer buffer() const noexcept {
    return Buffer(data_, size_ * sizeof(T), std::shared_ptr<const void>(mapping_, data_));
  }

 private:
  std::shared_ptr<void> mapping_;
  T* data_;
  std::size_t size_;
};

template <array_element T>
struct canner<SharedArray<T>> {
  static constexpr std::string_view tag = format::tag_ndarray;
  static void can(Writer& w, const SharedArray<T>& value) {
    w.ndarray_payload(NDArray(dtype_of<T>(), {value.size()}, value.buffer()));
  }
};

}  // namespace cannery
