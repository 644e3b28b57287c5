#pragma once
// The CANNERY_FIELDS structs of deserialize_fields_struct, shared with the
// corpus generator.

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cannery/canning.hpp"

namespace fuzzdemo {

struct Point {
  double x = 0;
  double y = 0;
  std::string label;
};
CANNERY_FIELDS(Point, x, y, label)

struct Particle {
  Eigen::Vector3d pos = Eigen::Vector3d::Zero();
  double mass = 0;
  std::int32_t id = 0;
  std::string name;
  std::vector<double> samples;
  std::optional<std::int64_t> parent;
  std::map<std::string, std::string> tags;
  Point origin;
};
CANNERY_FIELDS(Particle, pos, mass, id, name, samples, parent, tags, origin)

}  // namespace fuzzdemo
