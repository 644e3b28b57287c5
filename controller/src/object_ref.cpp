#include "cannery/controller/object_ref.hpp"

#include <string>

#include "cannery/canning/error.hpp"
#include "cannery/controller/async_result.hpp"

namespace cannery {

AsyncResult ObjectRef::fetch() const {
  if (!handle_) throw error(errc::invalid_argument, "an empty ObjectRef refers to no object");
  const std::shared_ptr<detail::RefReleaser> owner = handle_->releaser.lock();
  if (!owner) {
    throw error(errc::invalid_argument, "the Controller that made ObjectRef " +
                                            std::to_string(handle_->id) +
                                            " is gone, and its objects with it");
  }
  return AsyncResult(owner->fetch_ref(*this));
}

RefStats ObjectRef::stats() const {
  if (!handle_) return {};
  const std::shared_ptr<detail::RefReleaser> owner = handle_->releaser.lock();
  return owner ? owner->ref_stats(handle_->id) : RefStats{};
}

}  // namespace cannery
