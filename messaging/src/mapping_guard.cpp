#include "mapping_guard.hpp"

#include <signal.h>
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <mutex>

#include "cannery/canning/error.hpp"

namespace cannery::detail {
namespace {

// Enough for every segment an engine may hold at once (puts, SharedArray
// arguments); the handler scans them all, in microseconds.
constexpr std::size_t max_guarded = 16384;

// Read by the signal handler: atomics only, never freed.
struct Slot {
  std::atomic<std::uintptr_t> base{0};  // 0: free
  std::atomic<std::size_t> size{0};
  std::atomic<bool> damaged{false};
};
std::array<Slot, max_guarded> slots;
std::atomic<std::uint64_t> damaged_total{0};
struct sigaction previous_action {};

void on_sigbus(int signal, siginfo_t* info, void* context) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (Slot& slot : slots) {
    const std::uintptr_t base = slot.base.load(std::memory_order_acquire);
    const std::size_t size = slot.size.load(std::memory_order_acquire);
    if (base == 0 || address - base >= size) continue;
    // Zeros over the whole segment: the faulting read is retried and
    // succeeds, and so does every later one.
    if (::mmap(reinterpret_cast<void*>(base), size, PROT_READ,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
      slot.damaged.store(true, std::memory_order_release);
      damaged_total.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    break;
  }
  // Not one of ours: what was there before decides.
  if ((previous_action.sa_flags & SA_SIGINFO) != 0 && previous_action.sa_sigaction != nullptr) {
    previous_action.sa_sigaction(signal, info, context);
  } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
    previous_action.sa_handler(signal);
  } else {
    // Returning re-runs the faulting access, now with the default action.
    ::signal(SIGBUS, SIG_DFL);
  }
}

void install_handler() {
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGBUS, &action, &previous_action) != 0) {
    throw error(errc::io_error, "could not install the SIGBUS handler that guards shared memory");
  }
}

// The owner's deleter; the slot says where the mapping is and how it fared.
struct GuardedMapping {
  Slot* slot;
  std::string segment;
  void operator()(const void* data) const noexcept {
    const std::size_t size = slot->size.load(std::memory_order_relaxed);
    slot->base.store(0, std::memory_order_release);  // free before the range is
    ::munmap(const_cast<void*>(data), size);
    slot->damaged.store(false, std::memory_order_relaxed);
  }
};

}  // namespace

std::shared_ptr<const void> guard_mapping(void* data, std::size_t size, std::string segment) {
  static std::once_flag installed;
  std::call_once(installed, install_handler);
  static std::mutex claiming;
  std::lock_guard lock(claiming);
  for (Slot& slot : slots) {
    if (slot.base.load(std::memory_order_relaxed) != 0) continue;
    slot.damaged.store(false, std::memory_order_relaxed);
    slot.size.store(size, std::memory_order_relaxed);
    slot.base.store(reinterpret_cast<std::uintptr_t>(data), std::memory_order_release);
    return std::shared_ptr<const void>(data, GuardedMapping{&slot, std::move(segment)});
  }
  ::munmap(data, size);
  throw error(errc::limit_exceeded, "more than " + std::to_string(max_guarded) +
                                        " shared memory segments mapped at once; release some "
                                        "put() objects");
}

std::optional<std::string> damaged_mapping(const std::shared_ptr<const void>& owner) {
  const GuardedMapping* mapping = std::get_deleter<GuardedMapping>(owner);
  if (mapping == nullptr || !mapping->slot->damaged.load(std::memory_order_acquire))
    return std::nullopt;
  return mapping->segment;
}

bool is_guarded_mapping(const std::shared_ptr<const void>& owner) noexcept {
  return std::get_deleter<GuardedMapping>(owner) != nullptr;
}

std::uint64_t damaged_mappings() noexcept {
  return damaged_total.load(std::memory_order_relaxed);
}

}  // namespace cannery::detail
