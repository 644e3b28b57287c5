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
import json
import os
import pickle
import shutil
import signal
import sys
import tempfile
import time
import traceback

# cannery sends bytes as they are in these sections; Dask would otherwise
# compress its frames with lz4 when a sample of them compresses (our arrays
# are constant): the compression section compares codecs on their own. Set
# before distributed is imported, and inherited by its worker processes.
os.environ["DASK_DISTRIBUTED__COMM__COMPRESSION"] = "None"

import numpy as np  # noqa: E402

# The weights' shape, as in bench_canning and bench_cluster.
WEIGHT_ARRAYS = 50
WEIGHTS_BYTES = 400_000_000
WEIGHT_ELEMENTS = WEIGHTS_BYTES // 8 // WEIGHT_ARRAYS
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


# --- serialize + deserialize ------------------------------------------------------


def serializers():
    """name -> function doing one serialize + deserialize (views where the
    peer gives views), returning the object back."""
    out = {}

    def pickle5(obj):
        buffers = []
        data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
        return pickle.loads(data, buffers=buffers)

    out["pickle5"] = pickle5
    try:
        from ipyparallel.serialize import deserialize_object, serialize_object

        def ipp(obj):
            back, rest = deserialize_object(serialize_object(obj))
            return back

        out["ipyparallel"] = ipp
    except Exception as e:
        out["ipyparallel"] = e
    try:
        from distributed.protocol import deserialize, serialize

        def dask(obj):
            header, frames = serialize(obj)
            return deserialize(header, frames)

        out["dask"] = dask
    except Exception as e:
        out["dask"] = e
    return out


def check_same(obj, back):
    if isinstance(obj, dict):
        if sorted(obj) != sorted(back) or any(back[k].nbytes != obj[k].nbytes or back[k][0] != obj[k][0] for k in obj):
            raise RuntimeError("round trip differs")
    elif back.nbytes != obj.nbytes or back[-1] != obj[-1]:
        raise RuntimeError("round trip differs")


def small_message():
    """bench_canning's small_message: [int64, str, float, 16 doubles]."""
    return [1234567, "gradient.norm", 0.5, np.full(16, 0.25)]


def serialize_pass(args, p):
    chosen = serializers()
    if args.peers:
        chosen = {k: v for k, v in chosen.items() if k in args.peers.split(",")}
    # The small message, each object serialized and deserialized in turn
    # (its frames following one another, as in one message).
    message = small_message()
    for system, roundtrip in chosen.items():
        if isinstance(roundtrip, Exception):
            continue

        def run():
            back = [roundtrip(obj) for obj in message]
            if back[:3] != message[:3] or list(back[3]) != list(message[3]):
                raise RuntimeError("round trip differs")
            seconds, n = measure(lambda: [roundtrip(obj) for obj in message], args.min_time)
            p.add(section="serialize", workload="small_message", system=system, seconds=seconds, iterations=n)

        p.guard(system, "serialize small_message", run)
    for nbytes in args.sizes:
        for shape, make in (("array", one_array), ("weights", weights_of)):
            obj = make(nbytes)
            for system, roundtrip in chosen.items():
                if isinstance(roundtrip, Exception):
                    continue

                def run():
                    check_same(obj, roundtrip(obj))
                    seconds, n = measure(lambda: roundtrip(obj), args.min_time)
                    p.add(section="serialize", workload=shape, system=system, bytes=nbytes,
                          seconds=seconds, iterations=n)

                p.guard(system, "serialize %s/%d" % (shape, nbytes), run)
            del obj
    for system, roundtrip in chosen.items():
        if isinstance(roundtrip, Exception):
            p.errors.append({"system": system, "what": "import", "error": str(roundtrip)})


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


# Task bodies, shipped to the workers by value (pickled functions).
def add(a, b):
    return a + b


def small_task(i, name, value, samples):
    return i


def nbytes_all(weights):
    return sum(a.nbytes for a in weights.values())


def cluster_ops(p, system, args, client_ops):
    """The cluster workloads of bench_cluster, with client_ops giving the
    peer's apply, pipelined tasks, put + tasks and worker pids."""
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


# --- Dask -------------------------------------------------------------------------


def dask_sink(address_pipe):
    """The receiving end of the comm transfer, in a process of its own: reads
    each message (deserialized, the array a view of the frames), answers
    b"ok", until "stop" or TIMEOUT seconds of silence."""
    import asyncio

    from distributed.comm import listen

    async def main():
        done = asyncio.Event()

        async def handle(comm):
            while True:
                msg = await asyncio.wait_for(comm.read(), TIMEOUT)
                if msg == "stop":
                    break
                await comm.write(msg["x"].nbytes)
            await comm.close()
            done.set()

        listener = listen("tcp://127.0.0.1:0", handle)
        await listener.start()
        address_pipe.send(listener.contact_address)
        try:
            await asyncio.wait_for(done.wait(), TIMEOUT * 10)
        finally:
            listener.stop()

    asyncio.run(main())


def dask_transfer(args, p):
    import asyncio
    import multiprocessing

    from distributed.comm import connect
    from distributed.protocol import to_serialize

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    sink = ctx.Process(target=dask_sink, args=(there,), daemon=True)
    sink.start()
    try:
        if not here.poll(60):
            raise RuntimeError("the Dask comm sink did not start")
        address = here.recv()

        async def main():
            comm = await connect(address, timeout=30)
            try:
                for nbytes in args.sizes:
                    x = one_array(nbytes)

                    async def one():
                        await comm.write({"x": to_serialize(x)})
                        if await asyncio.wait_for(comm.read(), TIMEOUT) != x.nbytes:
                            raise RuntimeError("the sink received another size")

                    # measure() is synchronous: the same here with awaited
                    # calls, one untimed first.
                    await one()
                    n, seconds = 1, 0.0
                    while True:
                        start = time.perf_counter()
                        for _ in range(n):
                            await one()
                        seconds = time.perf_counter() - start
                        if seconds >= args.min_time or n >= 100_000:
                            break
                        n = min(100_000, max(n * 2, int(n * args.min_time * 1.4 / max(seconds, 1e-9))))
                    p.add(section="transfer", workload="array", system="dask_comm", bytes=nbytes,
                          seconds=seconds / n, iterations=n)
                await comm.write("stop")
            finally:
                await comm.close()

        asyncio.run(main())
    finally:
        sink.join(10)
        if sink.is_alive():
            sink.kill()


def dask_pass(args, p):
    p.guard("dask_comm", "transfer", lambda: dask_transfer(args, p))
    from distributed import Client, LocalCluster, wait

    start = time.perf_counter()
    # host= binds the scheduler, nannies and workers to 127.0.0.1; their HTTP
    # servers (health and metrics routes) bind there too, and the scheduler's
    # dashboard is off. Workers would add a Bokeh dashboard to theirs when
    # given an address; Bokeh is not installed, so there is none, and it
    # would be on 127.0.0.1 anyway.
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, worker_dashboard_address="127.0.0.1:0",
                      scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}) as cluster, \
            Client(cluster, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
        p.add(section="cluster", workload="start_2", system="dask", seconds=time.perf_counter() - start)
        samples = np.full(16, 0.25)

        def pipelined(n):
            futures = [client.submit(small_task, i, "gradient.norm", 0.5, samples, pure=False)
                       for i in range(n)]
            if client.gather(futures, direct=False) != list(range(n)):
                raise RuntimeError("small tasks returned other values")

        def put_and_tasks(weights, tasks):
            [ref] = client.scatter([weights], broadcast=True)
            del weights
            futures = [client.submit(nbytes_all, ref, pure=False) for _ in range(tasks)]
            wait(futures, timeout=TIMEOUT)
            totals = client.gather(futures)
            del ref, futures
            return min(totals)

        cluster_ops(p, "dask", args, {
            "apply": lambda: client.submit(add, 1.0, 2.0, pure=False).result(timeout=TIMEOUT),
            "pipelined": pipelined,
            "put_and_tasks": put_and_tasks,
            "worker_pids": lambda: list(client.run(os.getpid).values()),
        })


# --- IPython Parallel ---------------------------------------------------------------


def ipyparallel_pass(args, p):
    import ipyparallel as ipp

    profile = tempfile.mkdtemp(prefix="cannery-report-ipp-")
    start = time.perf_counter()
    cluster = ipp.Cluster(n=2, controller_ip="127.0.0.1", profile_dir=profile, log_level=30)
    try:
        rc = cluster.start_and_connect_sync()
        rc.wait_for_engines(2, timeout=60)
        p.add(section="cluster", workload="start_2", system="ipyparallel",
              seconds=time.perf_counter() - start)
        engine = rc[rc.ids[0]]

        def transfer():
            for nbytes in args.sizes:
                x = one_array(nbytes)
                seconds, n = measure(lambda: engine.push({"x": x}, block=False).get(timeout=TIMEOUT),
                                     args.min_time, max_iterations=10_000)
                p.add(section="transfer", workload="array", system="ipyparallel", bytes=nbytes,
                      seconds=seconds, iterations=n)
            engine.execute("del x", block=False).get(timeout=TIMEOUT)

        p.guard("ipyparallel", "transfer", transfer)
        lview = rc.load_balanced_view()
        samples = np.full(16, 0.25)

        def pipelined(n):
            results = [lview.apply_async(small_task, i, "gradient.norm", 0.5, samples) for i in range(n)]
            if [r.get(timeout=TIMEOUT) for r in results] != list(range(n)):
                raise RuntimeError("small tasks returned other values")

        def put_and_tasks(weights, tasks):
            rc[:].push({"weights": weights}, block=False).get(timeout=TIMEOUT)
            del weights
            results = [lview.apply_async(nbytes_all, ipp.Reference("weights")) for _ in range(tasks)]
            totals = [r.get(timeout=TIMEOUT) for r in results]
            rc[:].execute("del weights", block=False).get(timeout=TIMEOUT)
            return min(totals)

        cluster_ops(p, "ipyparallel", args, {
            "apply": lambda: engine.apply_async(add, 1.0, 2.0).get(timeout=TIMEOUT),
            "pipelined": pipelined,
            "put_and_tasks": put_and_tasks,
            "worker_pids": lambda: rc[:].apply_async(os.getpid).get(timeout=TIMEOUT),
        })
    finally:
        try:
            cluster.stop_cluster_sync()
        except Exception as e:  # not to hide why the pass failed
            print("peers.py: stopping the IPython Parallel cluster: %s" % e, file=sys.stderr, flush=True)
        shutil.rmtree(profile, ignore_errors=True)


# --- main ---------------------------------------------------------------------------


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
            serialize_pass(args, p)
        elif args.which == "dask":
            p.guard("dask", "pass", lambda: dask_pass(args, p))
        else:
            p.guard("ipyparallel", "pass", lambda: ipyparallel_pass(args, p))
    finally:
        p.write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
