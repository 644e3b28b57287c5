#pragma once
// Wire headers packed by hand with msgpack, for tests that must send what
// our own writer never would (a wrong shape, a stride past the data).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cannery::test {

// The start of an ndarray node: ["ndarray", [dtype, shape, strides, then
// the caller packs the last two of the five fields (data or buffer index,
// and offset).
template <class Packer>
void pack_ndarray_start(Packer& pk, std::string_view dtype, const std::vector<std::uint64_t>& shape,
                        const std::vector<std::int64_t>& strides) {
  pk.pack_array(2);
  pk.pack(std::string("ndarray"));
  pk.pack_array(5);
  pk.pack(std::string(dtype));
  pk.pack_array(static_cast<std::uint32_t>(shape.size()));
  for (auto s : shape)
    pk.pack_uint64(s);
  pk.pack_array(static_cast<std::uint32_t>(strides.size()));
  for (auto s : strides)
    pk.pack_int64(s);
}

}  // namespace cannery::test
