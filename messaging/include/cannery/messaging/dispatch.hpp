#pragma once
// Typed messages on a Session: making one from a message struct, reading one
// back, and a table that routes a received message to the handler of its
// type (the engine's loop and the controller's core each have one).
//
//   using Inbox = protocol::MessageTable<protocol::Heartbeat, protocol::PullRequest>;
//   const bool known = Inbox::dispatch(
//       message.header.msg_type, message.content,
//       protocol::overloaded{[&](protocol::Heartbeat) { answer_heartbeat(); },
//                            [&](protocol::PullRequest pull) { serve(pull.task, pull.name); }});
//   if (!known) refuse(message);  // a type not taken here

#include <string_view>
#include <utility>
#include <vector>

#include "cannery/messaging/codec.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::protocol {

// The message's content as T; throws cannery::error(malformed_message) when
// it is another type or does not fit T (naming the field).
template <MessageType T>
T decode(const Message& message) {
  if (message.header.msg_type != T::type) {
    throw error(errc::malformed_message, "expected a " + std::string(T::type) + ", got a " +
                                             message.header.msg_type.substr(0, 64));
  }
  return decode<T>(message.content);
}

// A new message on `session` holding `content` (and `buffers`).
template <MessageType T>
Message make_message(Session& session, const T& content, const Message* parent = nullptr,
                     std::vector<Buffer> buffers = {}) {
  Message m = session.message(T::type, Object(encode(content)), parent);
  m.buffers = std::move(buffers);
  return m;
}

template <MessageType... Ms>
struct MessageTable {
  static bool contains(std::string_view type) noexcept { return ((type == Ms::type) || ...); }

  // Decodes `content` as the table's message named `type` and calls
  // handler(T&&). False when the table has no such type; a content that does
  // not fit throws cannery::error(malformed_message) before the handler runs.
  template <class Handler>
  static bool dispatch(std::string_view type, const Object& content, Handler&& handler) {
    return ((type == Ms::type && (handler(decode<Ms>(content)), true)) || ...);
  }
};

// Handlers for MessageTable::dispatch made of lambdas.
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace cannery::protocol
