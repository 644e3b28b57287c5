#pragma once
// Plugins: shared libraries that add functions (and types) to an engine.
//
//   // my_plugin.cpp, built as a shared library linked to cannery::engine
//   #include <cannery/engine/plugin.hpp>
//   CANNERY_PLUGIN(registry) {
//     registry.register_type<mylib::Particle>();
//     registry.function("energy", [](const mylib::Particle& p) { return p.energy(); });
//   }
//
//   cannery-engine --connection-file c.json --plugin ./libmy_plugin.so
//
// The plugin must link the same shared cannery libraries as the engine
// (libcannery_canning.so holds the one tag registry both use). A plugin stays
// loaded for the life of the process: the functions it registered live in it.

#include <filesystem>

#include "cannery/engine/functions.hpp"

// The entry point's name carries the plugin ABI version: a plugin built for
// another version is refused with a clear message instead of misbehaving.
#define CANNERY_PLUGIN_ENTRY cannery_plugin_register_v1
#define CANNERY_DETAIL_STRINGIFY2(x) #x
#define CANNERY_DETAIL_STRINGIFY(x) CANNERY_DETAIL_STRINGIFY2(x)

// Defines the plugin's entry point; the block that follows is its body.
#define CANNERY_PLUGIN(registry)                                               \
  extern "C" __attribute__((visibility("default"))) void CANNERY_PLUGIN_ENTRY( \
      ::cannery::FunctionRegistry& registry);                                  \
  extern "C" __attribute__((visibility("default"))) void CANNERY_PLUGIN_ENTRY( \
      ::cannery::FunctionRegistry& registry)

namespace cannery {

// dlopens `path` (RTLD_NOW | RTLD_LOCAL) and calls its CANNERY_PLUGIN entry
// with `registry`. Throws io_error (with dlerror's text) when the library
// cannot be loaded or is not a cannery plugin; an exception from the entry
// point is rethrown with the plugin's path in front (same code for a
// cannery::error, invalid_argument otherwise).
void load_plugin(const std::filesystem::path& path, FunctionRegistry& registry);

}  // namespace cannery
