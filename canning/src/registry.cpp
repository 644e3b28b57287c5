#include "cannery/canning/registry.hpp"

#include <map>
#include <mutex>
#include <shared_mutex>

#include "cannery/canning/format.hpp"

namespace cannery::detail {
namespace {

struct Registry {
  std::shared_mutex mutex;
  std::map<std::string, TypeEntry, std::less<>> entries;
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

const TypeEntry& add_type_entry(TypeEntry entry) {
  if (format::is_builtin_tag(entry.tag)) {
    throw error(errc::duplicate_tag, "tag '" + entry.tag + "' is built in; choose another tag");
  }
  Registry& r = registry();
  std::unique_lock lock(r.mutex);
  auto [it, inserted] = r.entries.try_emplace(entry.tag, entry);
  if (!inserted && it->second.type != entry.type) {
    throw error(errc::duplicate_tag, "tag '" + entry.tag + "' is already registered for " +
                                         it->second.type.name() + "; cannot register " +
                                         entry.type.name() + " under it too");
  }
  return it->second;
}

const TypeEntry* find_type_entry(std::string_view tag) {
  Registry& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.entries.find(tag);
  return it == r.entries.end() ? nullptr : &it->second;
}

}  // namespace cannery::detail
