#!/usr/bin/env bash
# Install what is missing, build, and run the tests.
#   scripts/test.sh             Release build in build/: every test but the soak
#   scripts/test.sh --sanitize  -fsanitize=address,undefined (Debug) in build-sanitize/:
#                               every test but the soak, compile_fail, install and the
#                               liveness-under-load tests; no benchmarks or examples
#   scripts/test.sh --tsan      ThreadSanitizer in build-tsan/: the messaging, engine,
#                               controller, cluster, partition and dataplane tests (not
#                               launch: outside tools, and threads the cluster tests run)
#   scripts/test.sh --soak      Release build in build/: the soak tests only (minutes)
# Extra arguments after -- go to ctest (e.g. -- -L canning).
# Sanitizer reports of every process, engines included, are collected in
# <build>/sanitizer-reports/; any report fails the run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mode=release
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) mode=sanitize ;;
    --tsan) mode=tsan ;;
    --soak) mode=soak ;;
    --) shift; ctest_args+=("$@"); break ;;
    *) echo "usage: $0 [--sanitize | --tsan | --soak] [-- ctest args]" >&2; exit 2 ;;
  esac
  shift
done

# Test-only programs and checks that the sanitizer runs do not need.
# Nor the tests of liveness under heavy load (tests/CMakeLists.txt says why).
lean=(-DCANNERY_BUILD_BENCH=OFF -DCANNERY_BUILD_EXAMPLES=OFF -DCANNERY_BUILD_SERIAL_TESTS=OFF)
# Sanitizer reports need file and line, not variables: line tables only
# (-g1) compile a quarter to a third faster than full debug information.
# The sanitizer builds compile the libraries in unity batches too
# (CMAKE_UNITY_BUILD): the Release build compiles each library file alone,
# as users build them, and these check the same code instrumented.
case "$mode" in
  release | soak)
    build_dir="$CANNERY_ROOT/build"
    cmake_args=(-DCMAKE_BUILD_TYPE=Release)
    ;;
  sanitize)
    build_dir="$CANNERY_ROOT/build-sanitize"
    # Not compile_fail and install: they check what compiles and what is
    # installed, and run nothing the other tests do not run sanitized.
    cmake_args=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g1" -DCANNERY_SANITIZE=ON
                -DCMAKE_UNITY_BUILD=ON "${lean[@]}"
                "-DCANNERY_TEST_LAYERS=canning;messaging;engine;controller;cluster;partition;launch;dataplane;compression")
    ;;
  tsan)
    build_dir="$CANNERY_ROOT/build-tsan"
    cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                -DCANNERY_TSAN=ON -DCMAKE_UNITY_BUILD=ON "${lean[@]}"
                "-DCANNERY_TEST_LAYERS=messaging;engine;controller;cluster;partition;dataplane")
    ;;
esac
if [ "$mode" = soak ]; then
  label_args=(-L soak)
else
  label_args=(-LE soak)
fi

# The launchers' tests: a real sshd in test hosts, real Open MPI and MPICH mpiexecs,
# a real Slurm (munged, slurmctld, slurmd) in test hosts.
CANNERY_PACKAGES+=(openssh-server openssh-client openmpi-bin mpich munge slurmctld slurmd slurm-client)
# The report's test (label report): its plots and page, checked with pytest.
CANNERY_PACKAGES+=(python3-matplotlib python3-pytest)
cannery_install_missing
cannery_build "$build_dir" "${cmake_args[@]}"

reports="$build_dir/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export TSAN_OPTIONS="log_path=$reports/tsan:suppressions=$CANNERY_ROOT/tests/tsan.supp:second_deadlock_stack=1:${TSAN_OPTIONS:-}"

cd "$build_dir"
status=0
if [ "$mode" != soak ] && [ ${#ctest_args[@]} -eq 0 ]; then
  # The tests of liveness under heavy load (label *_serial, run alone) time
  # heartbeats on a machine shared with their own 64 engines: one that fails
  # is run once more, and fails the run only if it fails again (a real
  # regression fails both; a slow spell of this virtual machine, which the
  # build before relays showed too, does not).
  ctest --output-on-failure -j2 --timeout 900 -LE "soak|serial" || status=$?
  # Only the Release build has them (the sanitizer builds leave them out): a
  # ctest that finds no test would end the run's log with "No tests were found".
  if [ "$mode" = release ]; then
    ctest --output-on-failure --timeout 900 -L serial --repeat until-pass:2 || status=$?
  fi
else
  ctest --output-on-failure -j2 --timeout 900 "${label_args[@]}" "${ctest_args[@]}" || status=$?
fi
if compgen -G "$reports/*" >/dev/null; then
  echo "cannery: sanitizer reports (every process, engines included):" >&2
  for report in "$reports"/*; do
    echo "==== $report" >&2
    cat "$report" >&2
  done
  status=1
fi
exit $status
