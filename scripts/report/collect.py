"""Reads one report run's raw output and gathers it into results.

A run's raw folder holds, per round, Google Benchmark JSON of cannery's
programs and the peers' JSON (peers.py), then the compression benchmarks'
JSON, machine.json and notes.txt (what the script skipped or what failed):

    raw/round-1/canning.json  messaging.json  cluster.json
                peers-serialize.json  peers-dask.json  peers-ipyparallel.json
    raw/round-2/...
    raw/compression.json  raw/machine.json  raw/notes.txt

Every figure is a record {"section", "workload", "system", "bytes"?,
"seconds" | "value"}; over the rounds each key gets its values, median and
best (the least time, or the most tasks per second).
"""

import glob
import json
import os
import re
import statistics

WEIGHTS_BYTES = 400_000_000  # bench_cluster's payload, for the fresh-page rate

# Which way is better, per workload: figures in seconds are better small,
# rates large, peak memory small.
HIGHER_IS_BETTER = {"pipelined_small_tasks", "fresh_page_copy"}

UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}

# Google Benchmark appends these to a name; the report keys on the rest.
SUFFIX = re.compile(r"(/(real_time|process_time|manual_time|iterations:\d+|min_time:[\d.]+|repeats:\d+|threads:\d+))+$")


def base_name(name):
    return SUFFIX.sub("", name)


def load_json(path):
    """The JSON in path, or None when it is missing or not JSON (a step that
    failed or printed nothing); the caller notes which."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return None
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None


def benchmark_runs(doc):
    """{base name: run} of a Google Benchmark JSON document (iterations,
    not aggregates)."""
    runs = {}
    for run in (doc or {}).get("benchmarks", []):
        if run.get("run_type", "iteration") != "iteration":
            continue
        runs[base_name(run["name"])] = run
    return runs


def run_seconds(run):
    return run["real_time"] * UNIT_SECONDS[run.get("time_unit", "ns")]


def cannery_records(round_dir, errors):
    """Records of cannery's three programs in one round."""
    records = []

    def runs_of(program):
        doc = load_json(os.path.join(round_dir, program + ".json"))
        if doc is None:
            errors.append({"system": "cannery", "what": program, "error": "no benchmark output (see %s.log)" % program})
        runs = benchmark_runs(doc)
        for name, run in runs.items():
            if run.get("error_occurred"):
                errors.append({"system": "cannery", "what": name, "error": run.get("error_message", "failed")})
        return {name: run for name, run in runs.items() if not run.get("error_occurred")}

    for name, run in runs_of("canning").items():
        if name == "small_message":
            records.append({"section": "serialize", "workload": "small_message", "system": "cannery",
                            "seconds": run_seconds(run)})
        m = re.fullmatch(r"sweep_(array|weights)/(\d+)", name)
        if m:
            records.append({"section": "serialize", "workload": m.group(1), "system": "cannery",
                            "bytes": int(m.group(2)), "seconds": run_seconds(run)})
    for name, run in runs_of("messaging").items():
        m = re.fullmatch(r"sweep_(raw_zmq_)?span_tcp/(\d+)", name)
        if m:
            records.append({"section": "transfer", "workload": "array",
                            "system": "raw_zmq" if m.group(1) else "cannery",
                            "bytes": int(m.group(2)), "seconds": run_seconds(run)})
    cluster = runs_of("cluster")
    if "apply_roundtrip" in cluster:
        records.append({"section": "cluster", "workload": "apply_roundtrip", "system": "cannery",
                        "seconds": run_seconds(cluster["apply_roundtrip"])})
    if "raw_zmq_roundtrip" in cluster:
        records.append({"section": "cluster", "workload": "apply_roundtrip", "system": "raw_zmq",
                        "seconds": run_seconds(cluster["raw_zmq_roundtrip"])})
    if "pipelined_small_tasks" in cluster:
        records.append({"section": "cluster", "workload": "pipelined_small_tasks", "system": "cannery",
                        "value": cluster["pipelined_small_tasks"]["items_per_second"]})
    if "put_once_weights" in cluster:
        run = cluster["put_once_weights"]
        records.append({"section": "cluster", "workload": "put_weights", "system": "cannery",
                        "seconds": run_seconds(run)})
        for counter, workload in (("controller_rss", "peak_client"), ("engine_rss", "peak_engine")):
            if counter in run:
                records.append({"section": "cluster", "workload": workload, "system": "cannery",
                                "value": run[counter]})
    if "memcpy_weights_fresh" in cluster:
        # The machine's state: one copy of 400 MB into fresh pages, in GB/s.
        records.append({"section": "machine", "workload": "fresh_page_copy", "system": "machine",
                        "value": WEIGHTS_BYTES / run_seconds(cluster["memcpy_weights_fresh"]) / 1e9})
    return records


def peer_records(round_dir, errors):
    records = []
    for path in sorted(glob.glob(os.path.join(round_dir, "peers-*.json"))):
        doc = load_json(path)
        if doc is None:
            errors.append({"system": os.path.basename(path)[6:-5], "what": "pass",
                           "error": "no output (see %s)" % os.path.basename(path).replace(".json", ".log")})
            continue
        records.extend(doc.get("records", []))
        errors.extend(doc.get("errors", []))
    return records


def metric(record):
    return record["seconds"] if "seconds" in record else record["value"]


def key_of(record):
    return (record["section"], record["workload"], record["system"], record.get("bytes"))


def aggregate(rounds):
    """One entry per key with the values of every round, median and best."""
    by_key = {}
    for records in rounds:
        for r in records:
            by_key.setdefault(key_of(r), []).append(metric(r))
    out = []
    for (section, workload, system, nbytes), values in sorted(by_key.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        higher = workload in HIGHER_IS_BETTER
        out.append({
            "section": section, "workload": workload, "system": system, "bytes": nbytes,
            "unit": "s" if section != "machine" and workload not in ("pipelined_small_tasks", "peak_client", "peak_engine")
            else {"pipelined_small_tasks": "tasks/s", "fresh_page_copy": "GB/s"}.get(workload, "x payload"),
            "values": values, "median": statistics.median(values),
            "best": max(values) if higher else min(values),
        })
    return out


# --- compression -------------------------------------------------------------------

CODECS = ["none", "lz4", "zstd", "blosc_lz4", "blosc_zstd", "auto"]
DATA_KINDS = ["smooth", "zeros", "integers", "random"]


def compression(raw):
    """The compressed_link/<codec>/<data> benchmarks, or why there are none."""
    note = None
    note_path = os.path.join(raw, "compression.note")
    if os.path.exists(note_path):
        with open(note_path) as f:
            note = f.read().strip()
    doc = load_json(os.path.join(raw, "compression.json"))
    entries, errors = [], []
    for name, run in benchmark_runs(doc).items():
        m = re.fullmatch(r"compressed_link/([^/]+)/([^/]+)", name)
        if not m:
            continue
        if run.get("error_occurred"):
            errors.append("%s: %s" % (name, run.get("error_message", "failed")))
            continue
        entries.append({"codec": m.group(1), "data": m.group(2),
                        "bytes_per_second": run.get("bytes_per_second"),
                        "wire_fraction": run.get("wire_fraction")})
    if not entries and not note:
        note = ("absent: bench_messaging has no compressed_link/<codec>/<data> benchmarks in this "
                "build" if doc is not None else "absent: the compression step wrote no output")
    if errors:
        note = ((note + " ") if note else "") + "Failed: " + "; ".join(errors)
    ratios = []
    for e in entries:
        base = next((b for b in entries if b["codec"] == "none" and b["data"] == e["data"]), None)
        if base and base["bytes_per_second"] and e["bytes_per_second"] and e["codec"] != "none":
            ratios.append({"codec": e["codec"], "data": e["data"],
                           "throughput_over_none": e["bytes_per_second"] / base["bytes_per_second"]})
    return {"entries": entries, "ratios": ratios, "note": note}


# --- ratios --------------------------------------------------------------------------

# (section, workload, other systems): cannery's figure divided by each other's.
RATIO_PAIRS = [
    ("serialize", "small_message", ["ipyparallel", "dask", "pickle5"]),
    ("serialize", "array", ["ipyparallel", "dask", "pickle5"]),
    ("serialize", "weights", ["ipyparallel", "dask", "pickle5"]),
    ("transfer", "array", ["raw_zmq", "dask_comm", "ipyparallel"]),
    ("cluster", "apply_roundtrip", ["raw_zmq", "ipyparallel", "dask"]),
    ("cluster", "pipelined_small_tasks", ["ipyparallel", "dask"]),
    ("cluster", "put_weights", ["ipyparallel", "dask"]),
    ("cluster", "peak_client", ["ipyparallel", "dask"]),
    ("cluster", "peak_engine", ["ipyparallel", "dask"]),
]


def ratios(entries):
    """cannery / other of the medians over rounds, as time (or memory)
    ratios: below 1, cannery takes less. Rates are turned into time per
    task first."""
    index = {(e["section"], e["workload"], e["system"], e["bytes"]): e for e in entries}
    out = []
    for section, workload, others in RATIO_PAIRS:
        sizes = sorted({e["bytes"] for e in entries if e["section"] == section and e["workload"] == workload},
                       key=lambda b: -1 if b is None else b)
        for nbytes in sizes:
            mine = index.get((section, workload, "cannery", nbytes))
            if mine is None:
                continue
            for other in others:
                theirs = index.get((section, workload, other, nbytes))
                if theirs is None:
                    continue
                if workload in HIGHER_IS_BETTER:
                    ratio = theirs["median"] / mine["median"]
                else:
                    ratio = mine["median"] / theirs["median"]
                out.append({"section": section, "workload": workload, "bytes": nbytes,
                            "other": other, "cannery_over_other": ratio})
    return out


def collect(raw):
    """Everything the report shows, as one JSON-ready dict."""
    errors, rounds = [], []
    round_dirs = sorted(glob.glob(os.path.join(raw, "round-*")), key=lambda d: int(d.rsplit("-", 1)[1]))
    for number, round_dir in enumerate(round_dirs, 1):
        round_errors = []
        rounds.append(cannery_records(round_dir, round_errors) + peer_records(round_dir, round_errors))
        errors.extend(dict(e, round=number) for e in round_errors)
    entries = aggregate(rounds)
    notes = []
    if os.path.exists(os.path.join(raw, "notes.txt")):
        with open(os.path.join(raw, "notes.txt")) as f:
            notes = [line.strip() for line in f if line.strip()]
    return {
        "about": load_json(os.path.join(raw, "machine.json")),
        "rounds": len(round_dirs),
        "entries": entries,
        "ratios": ratios(entries),
        "compression": compression(raw),
        "errors": errors,
        "notes": notes,
    }
