// Plugins: a shared library with a CANNERY_PLUGIN entry adds functions and
// types to a registry; failures are io_error with dlerror's text.

#include <dlfcn.h>
#include <cannery/canning.hpp>
#include <cannery/engine.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "test_support.hpp"

namespace {

using cannery::test::capture_error;
using cannery::test::wire;

// The plugin's type, as a sender that knows it would can it.
struct Celsius {
  double degrees = 0;
};

}  // namespace

template <>
struct cannery::canner<Celsius> {
  static constexpr std::string_view tag = "test_plugin.celsius";
  static void can(Writer& w, const Celsius& c) { w.floating(c.degrees); }
};

TEST_CASE("a plugin registers its functions and types", "[engine][plugin]") {
  cannery::FunctionRegistry registry;
  cannery::register_builtin_functions(registry);
  cannery::load_plugin(CANNERY_TEST_PLUGIN, registry);
  CHECK(registry.contains("plugin_hello"));
  CHECK(registry.contains("to_fahrenheit"));

  auto hello = registry.apply(wire(cannery::pack_apply_message("plugin_hello", std::string("x"))));
  CHECK(cannery::uncan<std::string>(hello) == "hello, x");
  auto f = registry.apply(wire(cannery::pack_apply_message("to_fahrenheit", Celsius{100})));
  CHECK(cannery::uncan<double>(f) == 212.0);

  // Its type is registered in the one tag registry: a dynamic Object
  // argument (echo) can hold it, and it goes back out as it came.
  auto echoed = registry.apply(wire(cannery::pack_apply_message("echo", Celsius{21.5})));
  CHECK(echoed.tag == "test_plugin.celsius");

  // Loading it again would register the same names twice.
  auto again = capture_error([&] { cannery::load_plugin(CANNERY_TEST_PLUGIN, registry); });
  CHECK(again.code() == cannery::errc::invalid_argument);
  CHECK(again.message().find("plugin_hello") != std::string::npos);
}

TEST_CASE("a library that cannot be loaded, or is no plugin, is an io_error", "[engine][plugin]") {
  cannery::FunctionRegistry registry;
  auto missing =
      capture_error([&] { cannery::load_plugin("/nonexistent/libnothing.so", registry); });
  CHECK(missing.code() == cannery::errc::io_error);
  CHECK(missing.message().find("/nonexistent/libnothing.so") != std::string::npos);

  cannery::test::TempDir dir;
  std::ofstream(dir / "fake.so") << "not an ELF file";
  auto fake = capture_error([&] { cannery::load_plugin(dir / "fake.so", registry); });
  CHECK(fake.code() == cannery::errc::io_error);

  // A real shared library without the entry point: the engine library itself.
  Dl_info info{};
  REQUIRE(::dladdr(reinterpret_cast<void*>(&cannery::load_plugin), &info) != 0);
  auto no_entry = capture_error([&] { cannery::load_plugin(info.dli_fname, registry); });
  CHECK(no_entry.code() == cannery::errc::io_error);
  CHECK(no_entry.message().find("is not a cannery plugin") != std::string::npos);
}
