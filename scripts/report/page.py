"""index.html and summary.md of a report, from collect()'s results and the
PNG names plots made. Tables show the median over rounds and the rounds'
spread; ratios are cannery's figure over the other's (below 1: cannery
takes less time or memory)."""

import html

from plots import figure, label, size_label

SECTIONS = [  # id, heading: index.html names every one (the test checks)
    ("serialize", "Serialize + deserialize by size"),
    ("transfer", "End-to-end transfer of one array over tcp"),
    ("cluster", "Cluster operations with 2 engines"),
    ("compression", "Compression over a 1 Gbit/s test-host link"),
    ("ratios", "Ratios"),
    ("machine", "Machine, versions, date"),
]

WORKLOAD_NAMES = {
    "apply_roundtrip": "apply round trip",
    "pipelined_small_tasks": "pipelined small tasks",
    "put_weights": "put 400 MB + 20 tasks",
    "peak_client": "peak memory, caller (x payload)",
    "peak_engine": "peak memory, largest engine (x payload)",
    "start_2": "start 2 engines (not compared)",
    "array": "one array",
    "small_message": "small message [int64, str, float, 16 doubles]",
    "weights": "50 arrays",
}


def esc(text):
    return html.escape(str(text))


def spread(entry):
    median = figure(entry["median"], entry["unit"])
    if len(entry["values"]) == 1:
        return median + " (1 round)"
    lo, hi = min(entry["values"]), max(entry["values"])
    return "%s (%s to %s, %d rounds)" % (median, figure(lo, entry["unit"]), figure(hi, entry["unit"]),
                                         len(entry["values"]))


def table(headers, rows):
    out = ["<table><tr>" + "".join("<th>%s</th>" % esc(h) for h in headers) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join("<td>%s</td>" % esc(c) for c in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def sweep_table(entries, section, workload, systems):
    sizes = sorted({e["bytes"] for e in entries if e["section"] == section and e["workload"] == workload})
    index = {(e["system"], e["bytes"]): e for e in entries if e["section"] == section and e["workload"] == workload}
    rows = [[size_label(n)] + [spread(index[(s, n)]) if (s, n) in index else "not measured" for s in systems]
            for n in sizes]
    return table(["size"] + [label(s) for s in systems], rows)


def cluster_table(entries, systems):
    workloads = [w for w in WORKLOAD_NAMES if any(e["section"] == "cluster" and e["workload"] == w for e in entries)]
    index = {(e["system"], e["workload"]): e for e in entries if e["section"] == "cluster"}
    rows = [[WORKLOAD_NAMES[w]] + [spread(index[(s, w)]) if (s, w) in index else "-" for s in systems]
            for w in workloads]
    return table(["workload"] + [label(s) for s in systems], rows)


def ratio_rows(ratios):
    return [[r["section"], WORKLOAD_NAMES.get(r["workload"], r["workload"]),
             size_label(r["bytes"]) if r["bytes"] else "", label(r["other"]), "%.3g" % r["cannery_over_other"]]
            for r in ratios]


def img(name, alt):
    return '<img src="%s" alt="%s">' % (esc(name), esc(alt))


def problems(results):
    items = ["%s%s: %s" % (("round %d, " % e["round"]) if "round" in e else "", e["system"] + " " + e["what"],
                           e["error"]) for e in results["errors"]]
    items += results["notes"]
    if not items:
        return ""
    return '<div class="problems"><b>Not everything ran:</b><ul>%s</ul></div>' % "".join(
        "<li>%s</li>" % esc(i) for i in items)


def machine_state(results):
    fresh = [e for e in results["entries"] if e["workload"] == "fresh_page_copy"]
    about = results.get("about") or {}
    load = (about.get("machine") or {}).get("load_average")
    parts = []
    if fresh:
        parts.append("one copy into fresh pages %.2f GB/s (median of rounds; %.2f to %.2f)" % (
            fresh[0]["median"], min(fresh[0]["values"]), max(fresh[0]["values"])))
    if load:
        parts.append("load average at the start %s" % " / ".join(str(x) for x in load))
    return "; ".join(parts) or "not measured"


def write_html(path, results):
    entries = results["entries"]
    about = results.get("about") or {}
    machine = about.get("machine") or {}
    versions = about.get("versions") or {}
    comp = results["compression"]
    body = ["<h1>cannery beside its peers, one run on one machine</h1>",
            "<p>%s, %d interleaved round%s (cannery's benchmarks, then each peer, in every round). "
            "Machine state: %s. Points and table figures are medians over the rounds; bars and ranges "
            "the rounds' spread.</p>" % (esc(about.get("date", "date unknown")), results["rounds"],
                                        "" if results["rounds"] == 1 else "s", esc(machine_state(results))),
            problems(results)]
    for section, heading in SECTIONS:
        body.append('<section id="%s"><h2>%s</h2>' % (section, esc(heading)))
        if section == "serialize":
            body.append("<p>cannery: <code>bench_canning</code> <code>sweep_array/N</code>, "
                        "<code>sweep_weights/N</code> (views, nothing copied); IPython Parallel's "
                        "<code>serialize_object</code> + <code>deserialize_object</code>; Dask's "
                        "<code>serialize</code> + <code>deserialize</code>; <code>pickle.dumps(protocol=5, "
                        "buffer_callback=...)</code> + <code>pickle.loads(buffers=...)</code>.</p>")
            systems = ["cannery", "ipyparallel", "dask", "pickle5"]
            index = {e["system"]: e for e in entries
                     if e["section"] == "serialize" and e["workload"] == "small_message"}
            body.append("<h3>%s</h3>" % esc(WORKLOAD_NAMES["small_message"]))
            body.append("<p>cannery: <code>small_message</code>, typed; the peers serialize and deserialize "
                        "each of the four objects in turn.</p>")
            body.append(table([""] + [label(s) for s in systems],
                              [["time"] + [spread(index[s]) if s in index else "not measured" for s in systems]]))
            for workload, png in (("array", "serialize_array.png"), ("weights", "serialize_weights.png")):
                body.append("<h3>%s</h3>" % esc(WORKLOAD_NAMES[workload]))
                body.append(img(png, "serialize + deserialize, " + WORKLOAD_NAMES[workload]))
                body.append(sweep_table(entries, "serialize", workload, systems))
        elif section == "transfer":
            body.append("<p>cannery: <code>bench_messaging</code> <code>sweep_span_tcp/N</code> (a signed "
                        "<code>Session</code> message, uncanned as a view by the receiving thread) beside "
                        "<code>sweep_raw_zmq_span_tcp/N</code> (cppzmq sending the same bytes zero-copy), "
                        "over 127.0.0.1. Dask: <code>distributed.comm</code> over tcp to a process of its own "
                        "that answers each array with its size; IPython Parallel: <code>push</code> to one "
                        "engine, waiting for its reply. Compression off everywhere.</p>")
            body.append(img("transfer.png", "transfer by size"))
            body.append(sweep_table(entries, "transfer", "array", ["cannery", "raw_zmq", "dask_comm", "ipyparallel"]))
        elif section == "cluster":
            body.append("<p>cannery: <code>bench_cluster</code> (<code>apply_roundtrip</code> beside "
                        "<code>raw_zmq_roundtrip</code>, <code>pipelined_small_tasks</code> of 20,000 tasks, "
                        "<code>put_once_weights</code> with its peak-memory counters). IPython Parallel: "
                        "<code>ipp.Cluster(n=2)</code>, <code>apply</code>, a load-balanced view, "
                        "<code>push</code> + 20 tasks on a <code>Reference</code>. Dask: "
                        "<code>LocalCluster(n_workers=2, threads_per_worker=1, processes=True)</code>, "
                        "<code>submit</code>, <code>scatter(broadcast=True)</code> + 20 tasks.</p>")
            body.append(img("cluster.png", "cluster operations"))
            body.append(cluster_table(entries, ["cannery", "raw_zmq", "ipyparallel", "dask"]))
        elif section == "compression":
            if comp.get("note"):
                body.append('<p class="absent"><b>%s</b></p>' % esc(comp["note"]))
            if comp["entries"]:
                body.append("<p><code>bench_messaging</code> <code>compressed_link/&lt;codec&gt;/&lt;data&gt;</code>"
                            " across a 1 Gbit/s test-host link: uncompressed bytes delivered and decoded "
                            "per second; <code>none</code> is the baseline.</p>")
                body.append(img("compression.png", "compression throughput per codec"))
                over_none = {(r["codec"], r["data"]): r["throughput_over_none"] for r in comp["ratios"]}
                body.append(table(["codec", "data", "uncompressed MB/s", "throughput / none",
                                   "wire bytes / uncompressed"],
                                  [[e["codec"], e["data"], "%.4g" % ((e["bytes_per_second"] or 0) / 1e6),
                                    "%.3g" % over_none[(e["codec"], e["data"])]
                                    if (e["codec"], e["data"]) in over_none else "baseline",
                                    "%.3g" % e["wire_fraction"] if e["wire_fraction"] is not None else "-"]
                                   for e in comp["entries"]]))
        elif section == "ratios":
            body.append("<p>cannery's median over the other's median: times (tasks/s turned into time per "
                        "task) and peak memory. Below 1: cannery takes less.</p>")
            body.append(table(["section", "workload", "size", "against", "cannery / other"],
                              ratio_rows(results["ratios"])))
        elif section == "machine":
            rows = [["date", about.get("date", "unknown")], ["CPU", machine.get("cpu")],
                    ["cores", machine.get("cores")], ["memory", "%s GiB" % machine.get("memory_gib")],
                    ["kernel", machine.get("kernel")], ["state", machine_state(results)]]
            rows += [[k, v] for k, v in versions.items()]
            body.append(table(["", ""], rows))
        body.append("</section>")
    page = """<!doctype html>
<html><head><meta charset="utf-8"><title>cannery performance report</title>
<style>
body { font-family: sans-serif; max-width: 1250px; margin: 1em auto; }
img { max-width: 100%%; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
.problems, .absent { background: #fff0f0; border: 1px solid #d33; padding: 0.5em; }
</style></head><body>
%s
</body></html>
""" % "\n".join(body)
    with open(path, "w") as f:
        f.write(page)


# summary.md: the rows the README shows, each workload once, with its
# baselines as columns (Dask's comm in Dask's column).
SUMMARY_SIZES = (1024, 4 << 20, 400_000_000)
SUMMARY_ROWS = [("serialize", "small_message")] + [
    (section, workload) for section, workload in (("serialize", "array"), ("serialize", "weights"),
                                                  ("transfer", "array"))] + [
    ("cluster", w) for w in ("apply_roundtrip", "pipelined_small_tasks", "put_weights", "peak_client",
                             "peak_engine")]
SUMMARY_COLUMNS = ["raw_zmq", "ipyparallel", "dask", "pickle5"]


def summary_rows(results):
    """(row name, section, workload, bytes) in the order of the README."""
    out = []
    for section, workload in SUMMARY_ROWS:
        sizes = sorted({e["bytes"] for e in results["entries"]
                        if e["section"] == section and e["workload"] == workload}, key=lambda b: b or 0)
        for nbytes in sizes:
            if nbytes is not None and nbytes not in SUMMARY_SIZES:
                continue
            name = "%s %s" % ("transfer," if section == "transfer" else
                              "serialize + deserialize," if section == "serialize" else "2 engines,",
                              WORKLOAD_NAMES[workload])
            out.append((name + (", " + size_label(nbytes) if nbytes else ""), section, workload, nbytes))
    return out


def column_of(system):
    return "dask" if system == "dask_comm" else system


def write_summary(path, results):
    """Markdown for the README: ratios first, then absolute figures labelled
    with the date and the machine's state."""
    about = results.get("about") or {}
    rows = summary_rows(results)
    ratio = {(r["section"], r["workload"], r["bytes"], column_of(r["other"])): r["cannery_over_other"]
             for r in results["ratios"]}
    absolute = {(e["section"], e["workload"], e["bytes"], column_of(e["system"])): e for e in results["entries"]}
    lines = ["cannery's median over each baseline's, %d interleaved round%s (below 1: cannery takes less time "
             "or memory; tasks per second as time per task):" % (results["rounds"], "" if results["rounds"] == 1
                                                                  else "s"), "",
             "| workload | " + " | ".join("cannery / " + label(c) for c in SUMMARY_COLUMNS) + " |",
             "|---|" + "---|" * len(SUMMARY_COLUMNS)]
    for name, section, workload, nbytes in rows:
        cells = [("%.2g" % ratio[(section, workload, nbytes, c)]) if (section, workload, nbytes, c) in ratio else ""
                 for c in SUMMARY_COLUMNS]
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    lines += ["", "Absolute figures, medians of the rounds, %s (machine state: %s):" % (
        about.get("date", "date unknown"), machine_state(results)), "",
        "| workload | cannery | " + " | ".join(label(c) for c in SUMMARY_COLUMNS) + " |",
        "|---|---|" + "---|" * len(SUMMARY_COLUMNS)]
    for name, section, workload, nbytes in rows:
        cells = [figure(absolute[(section, workload, nbytes, c)]["median"],
                        absolute[(section, workload, nbytes, c)]["unit"])
                 if (section, workload, nbytes, c) in absolute else "" for c in ["cannery"] + SUMMARY_COLUMNS]
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
