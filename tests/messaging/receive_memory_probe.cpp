// A process that keeps its receive memory warm (receive_memory.hpp), as
// cannery-engine does, then receives a stream of large messages of varying
// sizes over tcp on 127.0.0.1 and reports, one "name value" per line:
//   kept               1 when keep_receive_memory_warm took effect (else only this line)
//   max_held           the most free memory held after any message was handled
//   second_pass_faults page faults per MiB received while the sizes repeat
//   held_idle          free memory held once idle for RETURN_AFTER_MS
// Run by test_receive_memory.cpp. Usage: receive_memory_probe BOUND RETURN_AFTER_MS

#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/receive_memory.hpp"

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;
// Message sizes in MiB, sent twice: up and down, so that a block freed is
// sometimes too small for the next message and sometimes larger.
constexpr std::size_t sizes_mib[] = {24, 3, 40, 8, 56, 1, 32, 16, 48, 12};
constexpr std::size_t largest_frame = 16 * mib;

std::size_t parse(std::string_view text) {
  std::size_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

void keep(void*, void*) {}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: receive_memory_probe BOUND RETURN_AFTER_MS\n");
    return 2;
  }
  const std::size_t bound = parse(argv[1]);
  const std::chrono::milliseconds return_after(parse(argv[2]));
  // First, before any thread: as cannery-engine's main() does.
  const bool kept = cannery::keep_receive_memory_warm(bound);
  std::printf("kept %d\n", kept ? 1 : 0);
  if (!kept) return 0;

  // What the sender hands libzmq without a copy: the same bytes every time.
  const std::vector<std::byte> source(largest_frame, std::byte{7});
  zmq::context_t context(1);
  zmq::socket_t receiver(context, zmq::socket_type::pull);
  receiver.set(zmq::sockopt::linger, 0);
  receiver.bind("tcp://127.0.0.1:*");
  const std::string endpoint = receiver.get(zmq::sockopt::last_endpoint);
  // One message at a time: the sender waits until the last one was handled,
  // so that what is live when a message arrives does not depend on timing.
  std::mutex mutex;
  std::condition_variable handled_one;
  std::size_t handled = 0;
  std::thread sender_thread([&] {
    // Closed with everything delivered (the default linger): the receiver
    // reads all of it.
    zmq::socket_t sender(context, zmq::socket_type::push);
    sender.connect(endpoint);
    std::size_t sent = 0;
    for (int pass = 0; pass < 2; ++pass) {
      for (std::size_t size : sizes_mib) {
        {
          std::unique_lock lock(mutex);
          handled_one.wait(lock, [&] { return handled == sent; });
        }
        ++sent;
        std::size_t left = size * mib;
        while (left > 0) {
          const std::size_t n = std::min(left, largest_frame);
          left -= n;
          zmq::message_t frame(const_cast<std::byte*>(source.data()), n, keep);
          sender.send(frame, left > 0 ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
      }
    }
  });

  cannery::ReceiveMemoryKeeper keeper(return_after);
  std::size_t max_held = 0;
  long faults_before_second_pass = 0;
  std::size_t second_pass_bytes = 0;
  const std::size_t count = std::size(sizes_mib);
  for (std::size_t i = 0; i < 2 * count; ++i) {
    if (i == count) faults_before_second_pass = minor_faults();
    std::size_t bytes = 0;
    {
      std::optional<std::vector<cannery::Buffer>> frames =
          cannery::receive_frames(receiver, cannery::FrameOptions{}, zmq::recv_flags::none);
      if (!frames) return 1;
      bytes = cannery::buffer_bytes(*frames);
      for (const cannery::Buffer& f : *frames) {
        if (f.size() > 0 && f.data()[f.size() - 1] != std::byte{7}) return 1;
      }
    }
    if (i >= count) second_pass_bytes += bytes;
    keeper.after_message(bytes, std::chrono::steady_clock::now());
    max_held = std::max(max_held, cannery::free_memory_held());
    {
      std::lock_guard lock(mutex);
      ++handled;
    }
    handled_one.notify_one();
  }
  const long second_pass_faults = minor_faults() - faults_before_second_pass;
  sender_thread.join();
  std::this_thread::sleep_for(return_after + std::chrono::milliseconds(50));
  keeper.tick(std::chrono::steady_clock::now());
  std::printf("max_held %zu\n", max_held);
  std::printf("second_pass_faults %.1f\n", static_cast<double>(second_pass_faults) /
                                               static_cast<double>(second_pass_bytes / mib));
  std::printf("held_idle %zu\n", cannery::free_memory_held());
  return 0;
}
