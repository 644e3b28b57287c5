#!/usr/bin/env bash
# Install what is missing, build, and run every test.
#   scripts/test.sh             Release build in build/
#   scripts/test.sh --sanitize  -fsanitize=address,undefined build in build-sanitize/
# Extra arguments after -- go to ctest (e.g. -- -L canning).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

build_dir="$CANNERY_ROOT/build"
cmake_args=(-DCMAKE_BUILD_TYPE=Release)
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize)
      build_dir="$CANNERY_ROOT/build-sanitize"
      cmake_args=(-DCMAKE_BUILD_TYPE=Debug -DCANNERY_SANITIZE=ON)
      ;;
    --) shift; ctest_args+=("$@"); break ;;
    *) echo "usage: $0 [--sanitize] [-- ctest args]" >&2; exit 2 ;;
  esac
  shift
done

cannery_install_missing
cannery_build "$build_dir" "${cmake_args[@]}"
cd "$build_dir"
ctest --output-on-failure -j2 --timeout 600 "${ctest_args[@]}"
