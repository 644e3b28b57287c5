"""The IPython Parallel pass: an ipp.Cluster of 2 engines on 127.0.0.1,
push of one array by size to one engine, then the cluster workloads."""

import os
import shutil
import sys
import tempfile
import time

import numpy as np

from peer_support import TIMEOUT, cluster_ops, measure, one_array


def ipyparallel_pass(args, p, bodies):
    """`bodies`: the task bodies, peers.py's add, small_task and nbytes_all."""
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
            results = [lview.apply_async(bodies.small_task, i, "gradient.norm", 0.5, samples) for i in range(n)]
            if [r.get(timeout=TIMEOUT) for r in results] != list(range(n)):
                raise RuntimeError("small tasks returned other values")

        def put_and_tasks(weights, tasks):
            rc[:].push({"weights": weights}, block=False).get(timeout=TIMEOUT)
            del weights
            results = [lview.apply_async(bodies.nbytes_all, ipp.Reference("weights")) for _ in range(tasks)]
            totals = [r.get(timeout=TIMEOUT) for r in results]
            rc[:].execute("del weights", block=False).get(timeout=TIMEOUT)
            return min(totals)

        cluster_ops(p, "ipyparallel", args, {
            "apply": lambda: engine.apply_async(bodies.add, 1.0, 2.0).get(timeout=TIMEOUT),
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
