#pragma once
// Buffers <-> ZeroMQ messages without copying array bytes.
//
// Sending: a Buffer above the copy threshold that has an owner is handed to
// libzmq as is (zmq_msg_init_data); its owner is kept alive until libzmq's
// free callback runs on its I/O thread. Smaller frames are copied: up to
// about 1 KiB a copy costs less than that bookkeeping. A borrowed Buffer
// (no owner: canned from an lvalue or a span) is lent to libzmq by a
// blocking send, which then returns only once libzmq has released it (the
// bytes written out to the connection, or the message dropped): the caller's
// memory is never read after the send returns. A non-blocking send cannot
// wait, so it copies borrowed frames; so does a blocking one with
// FrameOptions::lend_borrowed false.
//
// Receiving: each zmq::message_t is moved into the owner of the Buffer that
// views it, so uncanned arrays point straight at the received bytes.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <zmq.hpp>

#include "cannery/canning/buffer.hpp"

namespace cannery {

struct FrameOptions {
  // Frames of at most this many bytes are copied into the zmq message.
  // bench_messaging's frame_copy/N vs frame_zero_copy/N measure the
  // crossover: handing a frame over costs about 0.1 us whatever its size, a
  // copy as much up to 512 bytes and 1.2x at 1 KiB, 8x at 32 KiB.
  std::size_t copy_threshold = 1024;
  // A blocking send lends borrowed frames above copy_threshold to libzmq
  // and waits until it has released them. While the peer does not read, the
  // send waits with them, as it would at the high-water mark; false copies
  // them instead and returns as soon as libzmq has queued the message.
  bool lend_borrowed = true;
  // Most frames one received message may have before it is refused (the
  // rest is drained so the socket stays usable).
  std::size_t max_frames = 65536 + 64;
};

// Process-wide counts, for tests and benchmarks that prove zero copy.
// Senders and receivers update them from different threads: the two groups
// sit on separate cache lines so that neither stalls the other.
struct FrameStats {
  alignas(64) std::atomic<std::uint64_t> zero_copy_frames{0};
  std::atomic<std::uint64_t> copied_frames{0};
  std::atomic<std::uint64_t> copied_bytes{0};
  alignas(64) std::atomic<std::uint64_t> realigned_frames{0};  // received, copied for alignment
};
FrameStats& frame_stats() noexcept;

zmq::message_t to_zmq_message(const Buffer& buffer, const FrameOptions& options = {});
// The Buffer owns the message; aligned_for_views applied.
Buffer from_zmq_message(zmq::message_t&& message);

// libzmq delivers small frames at whatever offset they had in its receive
// buffer. Element views (an inlined array, an NDArray over the frame) need 8
// byte alignment: this returns the frame itself when aligned, else an
// aligned copy (small frames only are ever unaligned, so the copy is cheap).
Buffer aligned_for_views(Buffer frame);
// The same for a message's frames, with one allocation for all the copies.
std::vector<Buffer> aligned_for_views(std::vector<Buffer>&& frames);

// Sends all frames as one multipart message (blocking unless `flags` says
// otherwise). Throws cannery::error(io_error) when libzmq refuses, e.g. an
// unknown routing id on a ROUTER_MANDATORY socket, naming the errno text.
// Returns false only for a non-blocking send that would block on the first
// frame (nothing was sent).
bool send_frames(zmq::socket_ref socket, std::span<const Buffer> frames,
                 const FrameOptions& options = {}, zmq::send_flags flags = zmq::send_flags::none);
// The same for a message whose frames lie in several sequences, sent one
// after another as one message (Session::send: identities, envelope and
// buffers, without gathering them into one vector first).
bool send_frames(zmq::socket_ref socket, std::span<const std::span<const Buffer>> parts,
                 const FrameOptions& options = {}, zmq::send_flags flags = zmq::send_flags::none);

// Receives one whole multipart message; nullopt when a non-blocking receive
// finds nothing. The frames view the received memory as it is: pass those
// that will be uncanned through aligned_for_views (Session does so for the
// buffers; the envelope's msgpack needs no alignment). A message with more than options.max_frames
// frames is drained and refused with cannery::error(limit_exceeded).
std::optional<std::vector<Buffer>> receive_frames(zmq::socket_ref socket,
                                                  const FrameOptions& options = {},
                                                  zmq::recv_flags flags = zmq::recv_flags::none);

// Socket options that bound what a peer can make us hold: ZMQ_MAXMSGSIZE
// (per frame) and, for ROUTER sockets, ZMQ_ROUTER_MANDATORY so that a message
// to a vanished peer is an error instead of a silent drop.
void limit_frame_size(zmq::socket_ref socket, std::int64_t max_frame_bytes);
void make_router_mandatory(zmq::socket_ref socket);

}  // namespace cannery
