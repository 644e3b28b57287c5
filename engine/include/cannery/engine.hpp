#pragma once
// The engine layer: the runtime that runs registered functions for a
// controller, and its building blocks. See docs/engine.md.

#include "cannery/canning.hpp"
#include "cannery/engine/builtins.hpp"
#include "cannery/engine/engine.hpp"
#include "cannery/engine/errors.hpp"
#include "cannery/engine/functions.hpp"
#include "cannery/engine/launcher_rank.hpp"
#include "cannery/engine/object_cache.hpp"
#include "cannery/engine/plugin.hpp"
