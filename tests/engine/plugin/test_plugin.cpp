// A tiny plugin for tests/engine/test_plugin_loading.cpp: one type with a
// tag (so dynamic Objects can hold it) and two functions.

#include <cannery/canning.hpp>
#include <cannery/engine/plugin.hpp>
#include <string>

namespace test_plugin {
struct Celsius {
  double degrees = 0;
};
}  // namespace test_plugin

template <>
struct cannery::canner<test_plugin::Celsius> {
  static constexpr std::string_view tag = "test_plugin.celsius";
  static void can(Writer& w, const test_plugin::Celsius& c) { w.floating(c.degrees); }
  static test_plugin::Celsius uncan(const Node& n) { return {n.to_floating<double>()}; }
};

CANNERY_PLUGIN(registry) {
  registry.register_type<test_plugin::Celsius>();
  registry.function("plugin_hello", [](const std::string& name) { return "hello, " + name; });
  registry.function("to_fahrenheit",
                    [](test_plugin::Celsius c) { return c.degrees * 9.0 / 5.0 + 32.0; });
}
