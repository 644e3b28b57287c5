#include "cannery/engine/plugin.hpp"

#include <dlfcn.h>
#include <exception>
#include <string>

#include "cannery/engine/errors.hpp"

namespace cannery {

namespace {

std::string dl_error_text() {
  const char* text = ::dlerror();
  return text != nullptr ? text : "no details from dlerror";
}

}  // namespace

void load_plugin(const std::filesystem::path& path, FunctionRegistry& registry) {
  // A bare file name would make dlopen search the library path instead.
  const std::string where =
      path.has_parent_path() ? path.string() : (std::filesystem::path(".") / path).string();
  ::dlerror();  // clear any earlier error
  void* library = ::dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    throw error(errc::io_error, "cannot load plugin " + path.string() + ": " + dl_error_text() +
                                    " (check the path, and that the cannery libraries it "
                                    "links are found)");
  }
  using Entry = void (*)(FunctionRegistry&);
  void* symbol = ::dlsym(library, CANNERY_DETAIL_STRINGIFY(CANNERY_PLUGIN_ENTRY));
  if (symbol == nullptr) {
    const std::string details = dl_error_text();
    ::dlclose(library);
    throw error(errc::io_error,
                path.string() + " is not a cannery plugin for this version: it has no " +
                    CANNERY_DETAIL_STRINGIFY(CANNERY_PLUGIN_ENTRY) + " (" + details +
                    "); define one with CANNERY_PLUGIN and rebuild it against this cannery");
  }
  // Never closed: the registered functions' code lives in the library.
  try {
    reinterpret_cast<Entry>(symbol)(registry);
  } catch (const error& e) {
    throw error(e.code(), "plugin " + path.string() + ": " + e.message());
  } catch (...) {
    ErrorDescription d = describe_current_exception();
    throw error(errc::invalid_argument,
                "plugin " + path.string() + " failed to register: " + d.ename + ": " + d.evalue);
  }
}

}  // namespace cannery
