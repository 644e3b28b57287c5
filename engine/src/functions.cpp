#include "cannery/engine/functions.hpp"

#include <cstdint>
#include <string>

#include "cannery/messaging/shared_memory.hpp"

namespace cannery {
namespace detail {

namespace {

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void check_arguments(const ApplyMessage& call, std::size_t arity) {
  if (!call.kwarg_names().empty()) {
    std::string names;
    for (const auto& name : call.kwarg_names())
      names += (names.empty() ? "'" : ", '") + name + "'";
    throw error(errc::invalid_argument,
                "'" + call.function() + "' takes positional arguments only, but was sent keyword " +
                    (call.kwarg_names().size() == 1 ? "argument " : "arguments ") + names +
                    ": pass them positionally, in the order of the function's parameters");
  }
  if (call.nargs() != arity) {
    throw error(errc::invalid_argument, "'" + call.function() + "' takes " +
                                            plural(arity, "argument", "arguments") + ", " +
                                            plural(call.nargs(), "was", "were") + " sent");
  }
}

void refuse_map_without_arguments(const ApplyMessage& call) {
  throw error(errc::invalid_argument,
              "'" + call.function() +
                  "' takes no arguments, so there is nothing to map it over: apply it instead");
}

std::string map_count_message(std::size_t got, std::size_t count) {
  return "holds " + std::to_string(got) + " elements, but the map is over " +
         std::to_string(count) + ": send one element per call in every argument";
}

CannedObject owned_result(CannedObject canned, std::span<const Buffer> inputs) {
  auto owned = [&](const Buffer& b) {
    if (!b.is_borrowed() || b.empty()) return b;
    // An argument's bytes, returned as a view (an echo, a slice): the
    // received frame's owner keeps them as long as the reply needs them.
    const auto first = reinterpret_cast<std::uintptr_t>(b.data());
    for (const Buffer& input : inputs) {
      // Not a shared memory segment's bytes: another process could truncate
      // it while libzmq sends the reply, after the task's check for that.
      if (input.is_borrowed() || input.empty() || views_shared_memory(input)) continue;
      const auto begin = reinterpret_cast<std::uintptr_t>(input.data());
      if (first >= begin && b.size() <= input.size() && first - begin <= input.size() - b.size()) {
        return Buffer(b.data(), b.size(), input.owner());
      }
    }
    // A view of memory nobody keeps alive once the function has returned (a
    // span or NDArray over a local): copied once.
    return b.owned();
  };
  canned.header = owned(canned.header);
  for (Buffer& b : canned.buffers)
    b = owned(b);
  return canned;
}

}  // namespace detail

void FunctionRegistry::add(std::string name, Entry entry) {
  if (name.empty()) {
    throw error(errc::invalid_argument, "a function needs a non-empty name");
  }
  if (entries_.contains(name)) {
    throw error(errc::invalid_argument,
                "a function named '" + name +
                    "' is already registered: give the new one another name (two plugins or a "
                    "plugin and the built-ins may not define the same name)");
  }
  entries_.emplace(std::move(name), std::move(entry));
}

const FunctionRegistry::Entry& FunctionRegistry::find(const std::string& name) const {
  auto found = entries_.find(name);
  if (found == entries_.end()) {
    throw error(errc::unknown_function,
                "no function named '" + name +
                    "' on this engine: register it (Engine::function) or load the plugin that "
                    "defines it (cannery-engine --plugin LIB.so)");
  }
  return found->second;
}

bool FunctionRegistry::contains(std::string_view name) const {
  return entries_.contains(name);
}

std::vector<std::string> FunctionRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_)
    out.push_back(name);
  return out;
}

CannedObject FunctionRegistry::apply(ApplyMessage& call, const ObjectCache* cache) const {
  return find(call.function()).apply(call, cache);
}

CannedObject FunctionRegistry::apply(std::span<const Buffer> frames, const ObjectCache* cache,
                                     const Limits& limits) const {
  ApplyMessage call(frames, limits);
  return apply(call, cache);
}

CannedObject FunctionRegistry::map(ApplyMessage& call, std::size_t count,
                                   const ObjectCache* cache) const {
  return find(call.function()).map(call, count, cache);
}

CannedObject FunctionRegistry::map(std::span<const Buffer> frames, std::size_t count,
                                   const ObjectCache* cache, const Limits& limits) const {
  ApplyMessage call(frames, limits);
  return map(call, count, cache);
}

}  // namespace cannery
