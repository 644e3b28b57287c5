"""The serialize pass: IPython Parallel's canning, Dask's serializers and
pickle 5 with out-of-band buffers, each doing serialize + deserialize of the
small message and of one array and 50 arrays by size."""

import pickle

import numpy as np

from peer_support import measure, one_array, weights_of


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

                def run(obj=obj, roundtrip=roundtrip):
                    check_same(obj, roundtrip(obj))
                    seconds, n = measure(lambda: roundtrip(obj), args.min_time)
                    p.add(section="serialize", workload=shape, system=system, bytes=nbytes,
                          seconds=seconds, iterations=n)

                p.guard(system, "serialize %s/%d" % (shape, nbytes), run)
            del obj  # 400 MB: gone before the next size is made
    for system, roundtrip in chosen.items():
        if isinstance(roundtrip, Exception):
            p.errors.append({"system": system, "what": "import", "error": str(roundtrip)})
