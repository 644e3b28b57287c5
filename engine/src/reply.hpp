#pragma once
// A reply made on the worker thread, signed and sent by the I/O thread (the
// only one that touches the Session and the socket).

#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"
#include "cannery/messaging/session.hpp"

namespace cannery::detail {

struct Reply {
  MessageHeader parent;  // the request's header
  Object::Dict content;  // engine_id is added when sent
  std::vector<Buffer> buffers;
};

}  // namespace cannery::detail
