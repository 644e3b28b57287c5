#pragma once
// The controller layer: schedule canned calls on a fleet of engines.
// Target cannery::controller; see docs/controller.md.

// Every built-in canner (Eigen included), so arguments of any built-in type
// can be passed without further includes.
#include "cannery/canning.hpp"
#include "cannery/controller/async_map_result.hpp"
#include "cannery/controller/async_result.hpp"
#include "cannery/controller/controller.hpp"
#include "cannery/controller/engine_info.hpp"
#include "cannery/controller/errors.hpp"
#include "cannery/controller/launchers.hpp"
#include "cannery/controller/object_ref.hpp"
#include "cannery/controller/options.hpp"
#include "cannery/controller/stats.hpp"
// Arrays put() hands to engines on this host without writing them anywhere.
#include "cannery/messaging/shared_array.hpp"
