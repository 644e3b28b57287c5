// A user type with its own canner travels to engines that loaded a plugin
// knowing it, and comes back.

#include <cannery/controller.hpp>
#include <chrono>
#include <iostream>

#include "temperature.hpp"

using namespace std::chrono_literals;

int main() {
  cannery::register_type<weather::Temperature>();  // so dynamic Objects recognise it too
  cannery::Controller controller;
  cannery::EngineSpawnOptions spawn;
  spawn.plugins.push_back(WEATHER_PLUGIN_PATH);
  controller.spawn_local_engines(2, spawn);
  controller.wait_for_engines(2, 30s);

  weather::Temperature reading{293.15, "roof"};
  auto warmer =
      controller.apply(cannery::any_engine, "warmer", reading, 5.0).get<weather::Temperature>();
  std::cout << warmer.sensor << ": " << reading.kelvin << " K -> " << warmer.kelvin << " K\n";

  auto as_object =
      controller.apply(cannery::any_engine, "warmer", reading, 1.0).get<cannery::Object>();
  std::cout << "as a dynamic Object: kind " << as_object.kind_name() << "\n";

  std::cout << "in Celsius: "
            << controller.apply(cannery::any_engine, "to_celsius", warmer).get<double>() << "\n";
  return 0;
}
