#include "cannery/canning/plain_msgpack.hpp"

#include "cannery/canning/detail/untrusted_msgpack.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

Buffer pack_plain(const Object& value) {
  detail::HeaderStream stream;
  msgpack::packer<detail::HeaderStream> packer(stream);
  const std::size_t max_depth = Limits{}.max_depth;
  // A friend of Object: integers need the variant's signedness.
  auto pack = [&](auto& self, const Object& v, std::size_t depth) -> void {
    if (depth > max_depth) {
      throw error(errc::limit_exceeded,
                  "dict nests deeper than " + std::to_string(max_depth) + " levels");
    }
    std::visit(
        [&](const auto& x) {
          using V = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<V, std::monostate>) {
            packer.pack_nil();
          } else if constexpr (std::is_same_v<V, bool>) {
            x ? packer.pack_true() : packer.pack_false();
          } else if constexpr (std::is_same_v<V, std::int64_t>) {
            packer.pack_int64(x);
          } else if constexpr (std::is_same_v<V, std::uint64_t>) {
            packer.pack_uint64(x);
          } else if constexpr (std::is_same_v<V, double>) {
            stream.write_float(x);
          } else if constexpr (std::is_same_v<V, std::string>) {
            packer.pack(x);
          } else if constexpr (std::is_same_v<V, Buffer>) {
            packer.pack_bin(static_cast<std::uint32_t>(x.size()));
            packer.pack_bin_body(reinterpret_cast<const char*>(x.data()),
                                 static_cast<std::uint32_t>(x.size()));
          } else if constexpr (std::is_same_v<V, Object::List>) {
            packer.pack_array(static_cast<std::uint32_t>(x.size()));
            for (const Object& item : x)
              self(self, item, depth + 1);
          } else if constexpr (std::is_same_v<V, Object::Dict>) {
            packer.pack_map(static_cast<std::uint32_t>(x.size()));
            for (const auto& [key, item] : x) {
              packer.pack(key);
              self(self, item, depth + 1);
            }
          } else {
            throw error(errc::invalid_argument,
                        "a " + v.kind_name() +
                            " cannot travel as plain msgpack; send it as a canned buffer instead");
          }
        },
        v.value_);
  };
  pack(pack, value, 0);
  return stream.take();
}

Object unpack_plain(const Buffer& bytes, const Limits& limits) {
  if (detail::is_empty_map(bytes)) return Object::Dict{};
  detail::PooledZone zone = detail::take_pooled_zone();
  const msgpack::object root =
      detail::parse_untrusted(bytes, limits.max_depth, *zone, "message dict");
  DecodeBudget budget(limits);
  budget.add_received(bytes.size());
  detail::ReadContext context{&bytes, {}, limits, &budget, true};
  return canner<Object>::uncan(Node(root, context));
}

}  // namespace cannery
