"""What the peers' passes share (peers.py runs them): timing as Google
Benchmark does it, the arrays and weights of cannery's benchmarks, peak
memory of processes, the record of a pass, and the cluster workloads of
bench_cluster."""

import json
import os
import sys
import time
import traceback

import numpy as np

# The weights' shape, as in bench_canning and bench_cluster.
WEIGHT_ARRAYS = 50
WEIGHTS_BYTES = 400_000_000
PUT_TASKS = 20
TIMEOUT = 120  # seconds any single wait may take before the pass fails


def measure(op, min_time, max_iterations=1_000_000):
    """Seconds per call of `op`, as Google Benchmark does it: batches of n
    calls, n growing until a batch takes min_time; bounded in count by
    max_iterations. One untimed call first, as the C++ sweeps make (the
    receiving side's memory then used before, whoever runs first)."""
    op()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            op()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or n >= max_iterations:
            return elapsed / n, n
        grow = int(n * min_time * 1.4 / max(elapsed, 1e-9))
        n = min(max_iterations, max(n * 2, grow))


def layer_name(i):
    return "model.layers.%02d.mlp.weight" % i


def one_array(nbytes):
    return np.full(nbytes // 8, 1.0)


def weights_of(nbytes):
    """50 arrays of nbytes in all (the first ones one element longer when
    the elements do not divide evenly); array i holds the value i."""
    elements = nbytes // 8
    return {
        layer_name(i): np.full(
            elements // WEIGHT_ARRAYS + (1 if i < elements % WEIGHT_ARRAYS else 0), float(i)
        )
        for i in range(WEIGHT_ARRAYS)
    }


def versions():
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for name in ("ipyparallel", "distributed", "zmq"):
        try:
            out[name] = __import__(name).__version__
        except Exception as e:  # absent: the report says which
            out[name] = "absent (%s)" % e
    try:
        import zmq

        out["libzmq (pyzmq)"] = zmq.zmq_version()
    except Exception:
        pass
    return out


class Pass:
    """Records and errors of one pass, written as JSON at the end."""

    def __init__(self, name):
        self.name = name
        self.records = []
        self.errors = []

    def add(self, **record):
        self.records.append(record)
        print("  %-11s %-22s %-12s %12s  %s" % (
            record["system"], record["workload"], record["section"],
            record.get("bytes", ""),
            "%.6g s" % record["seconds"] if "seconds" in record else "%.6g" % record["value"]),
            flush=True)

    def guard(self, system, what, body):
        """Runs body(); a failure becomes an error record, not a crash."""
        try:
            body()
            return True
        except Exception as e:
            self.errors.append({"system": system, "what": what, "error": "%s: %s" % (type(e).__name__, e)})
            print("peers.py: %s %s failed:\n%s" % (system, what, traceback.format_exc()), file=sys.stderr, flush=True)
            return False

    def write(self, path):
        with open(path, "w") as f:
            json.dump({"pass": self.name, "records": self.records, "errors": self.errors,
                       "versions": versions()}, f, indent=1)


# --- peak memory ------------------------------------------------------------------


def reset_peak(pid):
    """Sets a process's peak resident memory back to its current size
    (Linux's clear_refs "5"), as bench_cluster does for its engines."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def peak_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


# --- the cluster workloads --------------------------------------------------------


def cluster_ops(p, system, args, client_ops):
    """The cluster workloads of bench_cluster, with client_ops giving the
    peer's apply, pipelined tasks, put + tasks and worker pids; the task
    bodies they run are peers.py's (its __main__ functions travel by
    value, which the workers need: they cannot import these modules)."""
    p.guard(system, "apply_roundtrip", lambda: p.add(
        section="cluster", workload="apply_roundtrip", system=system,
        seconds=measure(client_ops["apply"], args.min_time, max_iterations=500)[0]))

    def pipelined():
        start = time.perf_counter()
        client_ops["pipelined"](args.tasks)
        p.add(section="cluster", workload="pipelined_small_tasks", system=system,
              value=args.tasks / (time.perf_counter() - start), unit="tasks/s", tasks=args.tasks)

    p.guard(system, "pipelined_small_tasks", pipelined)

    def put_weights():
        pids = [os.getpid()] + client_ops["worker_pids"]()
        for pid in pids:
            reset_peak(pid)
        weights = weights_of(WEIGHTS_BYTES)  # made outside the timing, as bench_cluster does
        start = time.perf_counter()
        total = client_ops["put_and_tasks"](weights, PUT_TASKS)
        seconds = time.perf_counter() - start
        if total != WEIGHTS_BYTES:
            raise RuntimeError("tasks saw %d bytes of weights" % total)
        p.add(section="cluster", workload="put_weights", system=system, seconds=seconds)
        p.add(section="cluster", workload="peak_client", system=system,
              value=peak_bytes(pids[0]) / WEIGHTS_BYTES, unit="x payload")
        p.add(section="cluster", workload="peak_engine", system=system,
              value=max(peak_bytes(pid) for pid in pids[1:]) / WEIGHTS_BYTES, unit="x payload")

    p.guard(system, "put_weights", put_weights)
