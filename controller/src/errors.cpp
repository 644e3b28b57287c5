#include "cannery/controller/errors.hpp"

namespace cannery {
namespace {

// The code a remote cannery::error had: its type is "cannery.<code>".
errc remote_code(std::string_view type) {
  constexpr std::string_view prefix = "cannery.";
  if (type.substr(0, prefix.size()) != prefix) return errc::remote_error;
  return errc_from_string(type.substr(prefix.size())).value_or(errc::remote_error);
}

}  // namespace

RemoteError::RemoteError(int engine_id, std::string function, std::string type,
                         const std::string& message)
    : error(remote_code(type), message),
      engine_id_(engine_id),
      function_(std::move(function)),
      type_(std::move(type)),
      what_("cannery remote_error: '" + function_ + "' raised " + type_ + " on engine " +
            std::to_string(engine_id) + ": " + message) {}

EngineDied::EngineDied(int engine_id, const std::string& why)
    : error(errc::engine_died, why), engine_id_(engine_id) {}

ObjectLost::ObjectLost(std::uint64_t ref_id, int engine_id, std::string function, std::string why)
    : error(errc::object_lost, "object ref " + std::to_string(ref_id) + ", the result of '" +
                                   function + "' kept on engine " + std::to_string(engine_id) +
                                   ", is lost: " + why + "; run '" + function +
                                   "' again to make it anew"),
      ref_id_(ref_id),
      engine_id_(engine_id),
      function_(std::move(function)),
      why_(std::move(why)) {}

}  // namespace cannery
