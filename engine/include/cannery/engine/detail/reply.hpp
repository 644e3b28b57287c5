#pragma once
// A request's answer as the RequestHandler makes it, before the Loop adds
// the engine id, signs it and sends it (with the request as its parent).

#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/messaging/messages.hpp"

namespace cannery::detail {

struct Reply {
  protocol::ApplyReply content;  // engine_id is set when sent
  std::vector<Buffer> buffers;
};

}  // namespace cannery::detail
