"""The peers of scripts/bench-report.sh, measured on this machine in the same
run as cannery's benchmarks (never figures of another day).

    peers.py serialize   --sizes 1024,... --out FILE   IPython Parallel's canning,
                                                      Dask's serializers, pickle 5
    peers.py dask        --sizes 1024,... --out FILE   Dask comm over tcp, then a
                                                      LocalCluster of 2 workers
    peers.py ipyparallel --sizes 1024,... --out FILE   an ipp.Cluster of 2 engines:
                                                      push by size, then cluster ops

Each pass writes one JSON file: {"pass", "records": [...], "errors": [...],
"versions": {...}}. A record is {"section", "workload", "system", "bytes",
"seconds" | "value"}; a peer that fails leaves an error naming it instead of
its records, so that the report says so rather than leaving a gap.

Network rule (DESIGN.md, "Test hosts"): everything binds 127.0.0.1 and talks
only to it; Dask's dashboard is off and its HTTP servers bind 127.0.0.1.
Every loop is bounded in count and time, every cluster is stopped on the
way out, also on failure or SIGTERM (the script runs each pass under
`timeout`).
"""

import argparse
import os
import signal
import sys

# cannery sends bytes as they are in these sections; Dask would otherwise
# compress its frames with lz4 when a sample of them compresses (our arrays
# are constant): the compression section compares codecs on their own. Set
# before distributed is imported, and inherited by its worker processes.
os.environ["DASK_DISTRIBUTED__COMM__COMPRESSION"] = "None"

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import peer_dask  # noqa: E402
import peer_ipyparallel  # noqa: E402
import peer_serialize  # noqa: E402
from peer_support import Pass  # noqa: E402


# Task bodies, shipped to the workers by value (pickled functions).
def add(a, b):
    return a + b


def small_task(i, name, value, samples):
    return i


def nbytes_all(weights):
    return sum(a.nbytes for a in weights.values())


def on_sigterm(signum, frame):
    # `timeout` sends SIGTERM: unwind, so that the clusters' finally and
    # with blocks stop their processes.
    raise SystemExit("peers.py: stopped by signal %d" % signum)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("which", choices=["serialize", "dask", "ipyparallel"])
    parser.add_argument("--sizes", required=True, help="comma-separated byte counts")
    parser.add_argument("--out", required=True)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per measured batch")
    parser.add_argument("--tasks", type=int, default=400, help="pipelined small tasks per run")
    parser.add_argument("--peers", help="serialize: only these (pickle5,ipyparallel,dask)")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    signal.signal(signal.SIGTERM, on_sigterm)
    p = Pass(args.which)
    try:
        if args.which == "serialize":
            peer_serialize.serialize_pass(args, p)
        elif args.which == "dask":
            p.guard("dask", "pass", lambda: peer_dask.dask_pass(args, p, sys.modules[__name__]))
        else:
            p.guard("ipyparallel", "pass", lambda: peer_ipyparallel.ipyparallel_pass(args, p, sys.modules[__name__]))
    finally:
        p.write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
