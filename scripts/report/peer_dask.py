"""The Dask pass: one array over distributed.comm (tcp, 127.0.0.1) by size,
then a LocalCluster of 2 worker processes for the cluster workloads."""

import os
import time

import numpy as np

from peer_support import TIMEOUT, cluster_ops, one_array


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


def dask_pass(args, p, bodies):
    """`bodies`: the task bodies, peers.py's add, small_task and nbytes_all."""
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
            futures = [client.submit(bodies.small_task, i, "gradient.norm", 0.5, samples, pure=False)
                       for i in range(n)]
            if client.gather(futures, direct=False) != list(range(n)):
                raise RuntimeError("small tasks returned other values")

        def put_and_tasks(weights, tasks):
            [ref] = client.scatter([weights], broadcast=True)
            del weights
            futures = [client.submit(bodies.nbytes_all, ref, pure=False) for _ in range(tasks)]
            wait(futures, timeout=TIMEOUT)
            totals = client.gather(futures)
            del ref, futures
            return min(totals)

        cluster_ops(p, "dask", args, {
            "apply": lambda: client.submit(bodies.add, 1.0, 2.0, pure=False).result(timeout=TIMEOUT),
            "pipelined": pipelined,
            "put_and_tasks": put_and_tasks,
            "worker_pids": lambda: list(client.run(os.getpid).values()),
        })
