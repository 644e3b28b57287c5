#include "cannery/controller/errors.hpp"

namespace cannery {

RemoteError::RemoteError(int engine_id, std::string function, std::string type,
                         const std::string& message)
    : error(errc::remote_error, message),
      engine_id_(engine_id),
      function_(std::move(function)),
      type_(std::move(type)),
      what_("cannery remote_error: '" + function_ + "' raised " + type_ + " on engine " +
            std::to_string(engine_id) + ": " + message) {}

EngineDied::EngineDied(int engine_id, const std::string& why)
    : error(errc::engine_died, why), engine_id_(engine_id) {}

}  // namespace cannery
