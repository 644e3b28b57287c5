#!/usr/bin/env bash
# Build the libFuzzer targets (fuzz/) in build-fuzz/ with clang and run them.
#   scripts/fuzz.sh [SECONDS]        every target for SECONDS each (default 60)
#   scripts/fuzz.sh --smoke          every target for 3 s each: the CI run
#   scripts/fuzz.sh --keep-going [SECONDS]
#                                    fork mode: keep fuzzing past crashes,
#                                    timeouts and OOMs, saving each one
#   scripts/fuzz.sh [...] -- TARGET...   only these targets
# Each target starts from fuzz/corpus/<target>/ (read only) and keeps what it
# finds in build-fuzz/corpus/<target>/; reproducers go to
# build-fuzz/findings/<target>/, logs to build-fuzz/logs/<target>.log.
# Prints executions, coverage and crashes per target; exits 1 if any target
# crashed, with each reproducer and the command that re-runs it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

seconds=60
keep_going=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) seconds=3 ;;
    --keep-going) keep_going=1 ;;
    --) shift; targets+=("$@"); break ;;
    '' | *[!0-9]*) echo "usage: $0 [--smoke | --keep-going] [SECONDS] [-- TARGET...]" >&2; exit 2 ;;
    *) seconds=$1 ;;
  esac
  shift
done

# clang-14 with libFuzzer and the sanitizer runtimes (libclang-rt-14-dev holds
# libclang_rt.fuzzer*.a), llvm-14 for llvm-symbolizer (stacks with lines).
CANNERY_PACKAGES+=(clang-14 libclang-rt-14-dev llvm-14)
cannery_install_missing

build_dir="$CANNERY_ROOT/build-fuzz"
started=$SECONDS
# -O1 without NDEBUG: assertions (Eigen's index checks among them) stay on;
# line tables are all the stacks need (full -g makes the build much slower).
# Static libraries: one self-contained binary per target. The libraries are
# compiled in unity batches (CMAKE_UNITY_BUILD), a quarter faster; the
# Release build compiles each of their files alone.
build_fuzz_targets() {
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S "$CANNERY_ROOT" -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCANNERY_FUZZ=ON \
      -DBUILD_SHARED_LIBS=OFF -DCANNERY_BUILD_TESTS=OFF -DCANNERY_BUILD_BENCH=OFF \
      -DCANNERY_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DCMAKE_UNITY_BUILD=ON
  fi
  cmake --build "$build_dir" --target cannery_fuzz -j2
}
build_fuzz_targets
echo "cannery fuzz: build done after $((SECONDS - started)) s"

if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets <"$build_dir/fuzz-targets.txt"
fi

# Memory per input: an input is at most 64 KiB (-max_len), and decoding it
# legitimately allocates at most a few times that (arrays are views or one
# copy); 32 MiB in one allocation is 512 times the largest input, and 512 MiB
# resident is several times what any target uses (50-150 MiB, measured).
# Either is an amplification: a finding. ASan's quarantine of freed memory is
# held at 64 MiB (default 256) so that it does not count towards the limit.
export ASAN_OPTIONS="quarantine_size_mb=64:detect_stack_use_after_return=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
if [ -x /usr/bin/llvm-symbolizer-14 ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
  export UBSAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-14
fi
limits=(-rss_limit_mb=512 -malloc_limit_mb=32 -max_len=65536)

# What a reproducer shows, to tell findings apart: the sanitizer's or
# libFuzzer's reason (or the broken invariant) and the first two frames in
# cannery's own code.
triage() {
  local out what where
  out=$(timeout 120 "$1" "${limits[@]}" -timeout=60 "$2" 2>&1 || true)
  what=$(grep -m1 -oE 'INVARIANT BROKEN: .*|ERROR: AddressSanitizer: [a-z-]+|runtime error: .*|ERROR: libFuzzer: [a-z -]+|ERROR: LeakSanitizer: [a-z ]+|terminate called after throwing an instance of .*' <<<"$out" |
         sed -E 's/(cannery [a-z_]+): .*/\1/; s/[-+]?[0-9][0-9.e+-]*/N/g' || true)
  where=$(grep -E '^ +#[0-9]+ 0x[0-9a-f]+ in .* /' <<<"$out" |
          grep -E " $CANNERY_ROOT/(canning|messaging|engine|controller)/" | head -2 |
          sed -E "s|.* $CANNERY_ROOT/([^ ]*).*|\1|" | paste -sd ' ' - || true)
  echo "${what:-no crash when re-run (flaky, or needs the inputs before it)}${where:+ at $where}"
}

mkdir -p "$build_dir/logs"
failed=()
declare -A finding_count finding_example
fuzz_started=$SECONDS
printf '%-34s %8s %12s %7s %7s %7s %8s\n' target seconds executions cov ft corpus crashes
for target in "${targets[@]}"; do
  binary="$build_dir/bin/$target"
  [ -x "$binary" ] || { echo "cannery fuzz: no target $target" >&2; exit 2; }
  corpus="$build_dir/corpus/$target"
  findings="$build_dir/findings/$target"
  log="$build_dir/logs/$target.log"
  mkdir -p "$corpus" "$findings"
  # The controller target waits up to 10 s for the controller itself.
  timeout=10
  [ "$target" = controller_messages ] && timeout=30
  before=$(ls "$findings")
  args=("${limits[@]}" -timeout=$timeout -max_total_time="$seconds" -print_final_stats=1
        -dict="$CANNERY_ROOT/fuzz/msgpack.dict" -artifact_prefix="$findings/")
  if [ $keep_going -eq 1 ]; then
    args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  fi
  status=0
  "$binary" "${args[@]}" "$corpus" "$CANNERY_ROOT/fuzz/corpus/$target" >"$log" 2>&1 || status=$?

  # Executions: the final stats of one process; in fork mode the parent's
  # last "#N:" line counts all jobs.
  last=$(grep -E '^#[0-9]+:?[[:space:]].*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  if [ $keep_going -eq 1 ]; then
    execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last")
  else
    execs=$( (grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" || true) | tail -1 |
            grep -o '[0-9]*$' || true)
  fi
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$last")
  new=$(comm -13 <(sort <<<"$before") <(ls "$findings" | sort) | grep -E '^(crash|leak|timeout|oom)-' || true)
  crashes=$(grep -c . <<<"$new" || true)
  printf '%-34s %8s %12s %7s %7s %7s %8s\n' "$target" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "${corp:-?}" "$crashes"
  if [ "$crashes" -gt 0 ] || { [ $status -ne 0 ] && [ $keep_going -eq 0 ]; }; then
    failed+=("$target")
    for file in $new; do
      signature="$target: $(triage "$binary" "$findings/$file")"
      finding_count[$signature]=$(( ${finding_count[$signature]:-0} + 1 ))
      [ -n "${finding_example[$signature]:-}" ] && continue
      finding_example[$signature]="$findings/$file"
      echo "  finding:    $signature"
      echo "  reproducer: $findings/$file"
      echo "  re-run:     $binary ${limits[*]} $findings/$file"
      # A CI machine's files go with it: the log keeps the input itself.
      echo "  bytes (base64; save with: base64 -d > reproducer):"
      base64 -w 76 "$findings/$file" | sed 's/^/    /'
    done
    [ -z "$new" ] && echo "  exited with status $status without a reproducer; see $log"
    grep -E '^(SUMMARY|==[0-9]+==ERROR|cannery fuzz: INVARIANT)' "$log" | sort -u | sed 's/^/  /' || true
  fi
done
echo "cannery fuzz: fuzzing took $((SECONDS - fuzz_started)) s; $((SECONDS - started)) s in all"

if [ ${#failed[@]} -gt 0 ]; then
  echo "cannery fuzz: distinct findings (reproducers of each, one example):"
  for signature in "${!finding_count[@]}"; do
    echo "  ${finding_count[$signature]} x $signature"
    echo "      ${finding_example[$signature]}"
  done
  echo "cannery fuzz: crashes in: ${failed[*]} (logs in $build_dir/logs/)" >&2
  echo "  re-run each reproducer with the command printed under it (docs/testing.md, \"Fuzzing\")" >&2
  exit 1
fi
