#!/usr/bin/env bash
# Install what is missing, build, and run the main demo: a controller starts
# 4 local engines, sends them arrays and scalars, and runs a map.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

cannery_install_missing
cannery_build "$CANNERY_ROOT/build" -DCMAKE_BUILD_TYPE=Release
"$CANNERY_ROOT/build/bin/quickstart"
