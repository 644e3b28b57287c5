// Loaded by engines with `cannery-engine --plugin libweather_plugin.so`:
// registers the Temperature type and functions that take and return it.

#include <cannery/engine/plugin.hpp>

#include "temperature.hpp"

CANNERY_PLUGIN(registry) {
  registry.register_type<weather::Temperature>();
  registry.function("warmer", [](weather::Temperature t, double kelvin) {
    t.kelvin += kelvin;
    return t;
  });
  registry.function("to_celsius", [](const weather::Temperature& t) { return t.kelvin - 273.15; });
}
