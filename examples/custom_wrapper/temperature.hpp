#pragma once
// A user's own wrapper type with a hand-written canner: shared by the plugin
// that engines load and by the controller program.

#include <cannery/canning.hpp>
#include <string>

namespace weather {

struct Temperature {
  double kelvin = 0;
  std::string sensor;
};

}  // namespace weather

// The one customization point. With a tag, receivers that do not know the
// static type (cannery::Object) recognise it once register_type is called.
template <>
struct cannery::canner<weather::Temperature> {
  static constexpr std::string_view tag = "weather.Temperature";
  static void can(Writer& w, const weather::Temperature& t) {
    w.dict(2);
    w.key("kelvin");
    w.write(t.kelvin);
    w.key("sensor");
    w.write(t.sensor);
  }
  static weather::Temperature uncan(const Node& n) {
    auto field = [&](std::string_view name) {
      auto found = n.find(name);
      if (!found) n.fail(errc::type_mismatch, "a Temperature needs '" + std::string(name) + "'");
      return *found;
    };
    return {field("kelvin").as<double>(), field("sensor").as<std::string>()};
  }
};
