#!/usr/bin/env bash
# A one-run comparison of cannery with its peers, in pictures: installs what
# is missing, builds the benchmarks (Release, build/), then measures on this
# machine, in interleaved rounds (cannery's benchmarks, then each peer, in
# every round, so that a slow spell of this virtual machine hits all alike):
#   - serialize + deserialize by size, 1 KiB to 400 MB, one array and 50,
#     and of a small message: cannery, IPython Parallel's canning, Dask's
#     serializers, pickle 5;
#   - one array over tcp on 127.0.0.1 by size: cannery, raw cppzmq, Dask
#     comm, IPython Parallel;
#   - 2 engines: apply round trip, pipelined small tasks, 400 MB put + 20
#     tasks, peak memory: cannery, raw cppzmq (round trip), IPython Parallel,
#     Dask;
#   - compression over a 1 Gbit/s test-host link (bench_messaging's
#     compressed_link/ benchmarks; root), once, before the rounds.
# Writes build/report/index.html with its PNGs, results.json and summary.md
# (docs/report.md says what each shows).
#
#   scripts/bench-report.sh            3 rounds, as many as fit the budget
#   scripts/bench-report.sh --quick    1 round, short batches: a minute or two
#   scripts/bench-report.sh --rounds 5
# Environment: CANNERY_REPORT_ROUNDS (3), CANNERY_REPORT_MIN_TIME (seconds
# per measured batch, 0.2), CANNERY_REPORT_TASKS (pipelined tasks per peer
# run, 400), CANNERY_REPORT_BUDGET (seconds for the whole script, build
# included, 840: rounds after the first are left out when the next would not
# fit, and the report says so).
#
# Traffic goes to 127.0.0.1 only (and, for compression, between test hosts
# the benchmark makes itself), as DESIGN.md's network rule says.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

rounds=${CANNERY_REPORT_ROUNDS:-3}
min_time=${CANNERY_REPORT_MIN_TIME:-0.2}
tasks=${CANNERY_REPORT_TASKS:-400}
budget=${CANNERY_REPORT_BUDGET:-840}
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) rounds=1 min_time=0.05 tasks=100 ;;
    --rounds) rounds=$2; shift ;;
    *) echo "usage: $0 [--quick] [--rounds N]" >&2; exit 2 ;;
  esac
  shift
done

python=/usr/bin/python3  # Debian's, which sees Debian's packages
build="$CANNERY_ROOT/build"
bin="$build/bin"
report="$build/report"
raw="$report/raw"
here="$CANNERY_ROOT/scripts/report"
sizes=1024,16384,262144,4194304,67108864,400000000

log() { echo "bench-report [$SECONDS s] $*"; }
note() { echo "$*" >>"$raw/notes.txt"; log "NOTE: $*"; }

# step NAME SECONDS OUT LOG COMMAND...: runs COMMAND bounded in time, its
# standard output to OUT and its standard error to LOG; a failure is noted
# (the report names it) and the run goes on.
step() {
  local name=$1 limit=$2 out=$3 err=$4
  shift 4
  local start=$SECONDS status=0
  timeout -k 10 "$limit" "$@" >"$out" 2>"$err" || status=$?
  if [ $status -ne 0 ]; then
    note "$name failed (exit $status$([ $status -eq 124 ] && echo ", over $limit s")); see ${err#"$report"/}"
  fi
  log "  $name: $((SECONDS - start)) s"
}

log "installing what is missing"
CANNERY_PACKAGES+=(python3-ipyparallel python3-distributed python3-matplotlib)
cannery_install_missing

log "building the benchmarks and cannery-engine (Release, build/)"
cannery_configure "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j2 --target bench_canning bench_messaging bench_cluster cannery-engine
log "built"

rm -rf "$raw"
mkdir -p "$raw"
: >"$raw/notes.txt"
# Dask's and IPython Parallel's scratch files (worker spaces, profiles) go here.
scratch=$(mktemp -d /tmp/cannery-report-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
export DASK_TEMPORARY_DIRECTORY="$scratch" PYTHONDONTWRITEBYTECODE=1
"$python" "$here/machine.py" --root "$CANNERY_ROOT" --build "$build" --out "$raw/machine.json"

log "compression over a 1 Gbit/s test-host link"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: the test hosts need root (network namespaces); run as root to measure it" \
    >"$raw/compression.note"
elif ! "$bin/bench_messaging" --benchmark_list_tests --benchmark_filter='^compressed_link/' 2>/dev/null |
    grep -q '^compressed_link/'; then
  echo "absent: this build of bench_messaging has no compressed_link/<codec>/<data> benchmarks" \
    >"$raw/compression.note"
else
  step compression 300 "$raw/compression.json" "$raw/compression.log" \
    "$bin/bench_messaging" --benchmark_filter='^compressed_link/' --benchmark_format=json
fi
[ -f "$raw/compression.note" ] && log "  $(cat "$raw/compression.note")"

cluster_filter='^(raw_zmq_roundtrip|apply_roundtrip|pipelined_small_tasks|put_once_weights|memcpy_weights_fresh)(/|$)'
last=0
for ((r = 1; r <= rounds; r++)); do
  # Leave 60 s for the report; a round takes about as long as the last.
  if [ "$r" -gt 1 ] && [ $((SECONDS + last + 60)) -gt "$budget" ]; then
    note "rounds: $((r - 1)) of $rounds, the next would not fit the budget of $budget s (CANNERY_REPORT_BUDGET)"
    break
  fi
  start=$SECONDS
  dir="$raw/round-$r"
  mkdir -p "$dir"
  log "round $r of $rounds"
  gb=(--benchmark_format=json "--benchmark_min_time=$min_time")
  step "round $r: bench_canning" 300 "$dir/canning.json" "$dir/canning.log" \
    "$bin/bench_canning" --benchmark_filter='^(sweep_|small_message$)' "${gb[@]}"
  step "round $r: peers serialize" 300 "$dir/peers-serialize.json.out" "$dir/peers-serialize.log" \
    "$python" -B "$here/peers.py" serialize --sizes "$sizes" --min-time "$min_time" \
    --out "$dir/peers-serialize.json"
  step "round $r: bench_messaging" 300 "$dir/messaging.json" "$dir/messaging.log" \
    "$bin/bench_messaging" --benchmark_filter='^sweep_' "${gb[@]}"
  step "round $r: bench_cluster" 300 "$dir/cluster.json" "$dir/cluster.log" \
    "$bin/bench_cluster" --benchmark_filter="$cluster_filter" "${gb[@]}"
  for peer in dask ipyparallel; do
    (cd "$scratch" && step "round $r: peers $peer" 300 "$dir/peers-$peer.json.out" "$dir/peers-$peer.log" \
      "$python" -B "$here/peers.py" "$peer" --sizes "$sizes" --min-time "$min_time" --tasks "$tasks" \
      --out "$dir/peers-$peer.json")
  done
  last=$((SECONDS - start))
done

log "writing the report"
"$python" -B "$here/make_report.py" --raw "$raw" --out "$report"
log "done in $SECONDS s: $report/index.html"
