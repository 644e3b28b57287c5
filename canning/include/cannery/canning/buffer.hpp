#pragma once
// Buffer: immutable contiguous bytes plus a shared owner that keeps them alive.
// Copying a Buffer copies a pointer, a size and a shared_ptr, never the bytes.

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

namespace cannery {

class Buffer {
 public:
  Buffer() = default;

  // View `size` bytes at `data`, kept alive by `owner`.
  Buffer(const void* data, std::size_t size, std::shared_ptr<const void> owner) noexcept
      : data_(static_cast<const std::byte*>(data)), size_(size), owner_(std::move(owner)) {}

  // View memory the caller keeps alive for as long as this Buffer (or any copy,
  // or anything canned from it) is in use. No owner is recorded.
  static Buffer borrow(const void* data, std::size_t size) noexcept {
    return {data, size, nullptr};
  }

  // A Buffer owning a fresh copy of the bytes.
  static Buffer copy_of(const void* data, std::size_t size);
  static Buffer copy_of(std::string_view text) { return copy_of(text.data(), text.size()); }

  // Fresh, uninitialized, writable storage of `size` bytes aligned for any
  // scalar; `fill` receives the writable pointer once, before the Buffer is
  // shared. This is how a gather writes straight into an outgoing frame.
  template <class Fill>
  static Buffer allocate(std::size_t size, Fill&& fill) {
    // One allocation for the reference count and the bytes (small frames are
    // made on every message); whole blocks keep the bytes aligned.
    struct alignas(std::max_align_t) Block {
      std::byte bytes[alignof(std::max_align_t)];
    };
    const std::size_t blocks = size == 0 ? 1 : (size + sizeof(Block) - 1) / sizeof(Block);
    std::shared_ptr<Block[]> storage = std::make_shared_for_overwrite<Block[]>(blocks);
    std::byte* data = storage[0].bytes;
    std::forward<Fill>(fill)(data);
    return {data, size, std::shared_ptr<const void>(std::move(storage), data)};
  }

  // Take ownership of a contiguous container (std::vector, std::string, an
  // Eigen matrix, ...) by moving it behind a shared owner: no byte is copied.
  template <class Container>
  requires(!std::is_lvalue_reference_v<Container>) && requires(const Container& c) {
    std::data(c);
    std::size(c);
  }
  static Buffer take(Container&& container) {
    auto owner = std::make_shared<const Container>(std::move(container));
    using Element = std::remove_cvref_t<decltype(*std::data(*owner))>;
    return {std::data(*owner), std::size(*owner) * sizeof(Element), owner};
  }

  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  std::string_view as_string_view() const noexcept {
    return {reinterpret_cast<const char*>(data_), size_};
  }
  // Null when the bytes are borrowed.
  const std::shared_ptr<const void>& owner() const noexcept { return owner_; }
  bool is_borrowed() const noexcept { return owner_ == nullptr; }

  // This Buffer when it has an owner, else an owning copy of its bytes: for
  // bytes that must outlive the caller's borrowed memory (a queued message).
  Buffer owned() const { return is_borrowed() && !empty() ? copy_of(data_, size_) : *this; }

  // A view of `size` bytes from `offset`, sharing the owner; throws
  // cannery::error(shape_mismatch) when the range lies outside this Buffer.
  Buffer slice(std::size_t offset, std::size_t size) const;

  // Byte-wise equality of contents (not identity).
  friend bool operator==(const Buffer& a, const Buffer& b) noexcept {
    return a.size_ == b.size_ && (a.size_ == 0 || std::memcmp(a.data_, b.data_, a.size_) == 0);
  }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::shared_ptr<const void> owner_;
};

// The bytes of `frames` together (a canned object's size).
inline std::size_t total_size(std::span<const Buffer> frames) noexcept {
  std::size_t total = 0;
  for (const Buffer& frame : frames)
    total += frame.size();
  return total;
}

}  // namespace cannery
