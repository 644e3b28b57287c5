#pragma once
// A request's answer as the RequestHandler makes it, before the Loop adds
// the engine id, signs it and sends it (with the request as its parent).

#include <vector>

#include "cannery/canning/buffer.hpp"
#include "cannery/canning/object.hpp"

namespace cannery::detail {

struct Reply {
  Object::Dict content;  // engine_id is added when sent
  std::vector<Buffer> buffers;
};

}  // namespace cannery::detail
