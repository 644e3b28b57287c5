"""The report's PNGs, made with matplotlib (Agg, no display) from collect()'s
results. Each figure shows cannery beside its baselines (raw cppzmq, the
peers) and, where it has sizes, a second panel of ratios; axes are log-log
where sizes span decades. Every point is the median over the rounds, its
bar the rounds' spread (least to most)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

STYLE = {  # system -> (label, colour, marker)
    "cannery": ("cannery", "#1f4e9c", "o"),
    "raw_zmq": ("raw cppzmq", "#7f7f7f", "s"),
    "ipyparallel": ("IPython Parallel", "#e07b00", "^"),
    "dask": ("Dask", "#2a9d3a", "v"),
    "dask_comm": ("Dask comm", "#2a9d3a", "v"),
    "pickle5": ("pickle 5, out of band", "#8a3ab9", "D"),
}
DPI = 100


def size_label(nbytes):
    if nbytes % 1_000_000 == 0 and nbytes >= 100_000_000:
        return "%d MB" % (nbytes // 1_000_000)
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= factor and nbytes % factor == 0:
            return "%d %s" % (nbytes // factor, unit)
    return "%d B" % nbytes


def figure(value, unit):
    """A figure with its unit, at a scale a reader takes in at a glance."""
    if unit == "s":
        for scale, name in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
            if value >= scale:
                return "%.3g %s" % (value / scale, name)
        return "%.3g ns" % (value * 1e9)
    if unit == "tasks/s":
        return "{:,.0f} /s".format(value)
    return "%.3g %s" % (value, unit.replace("x payload", "x"))


def label(system):
    return STYLE.get(system, (system, "black", "x"))[0]


def select(entries, section, workload):
    """{system: [entries by size]} of one section's workload."""
    out = {}
    for e in entries:
        if e["section"] == section and e["workload"] == workload:
            out.setdefault(e["system"], []).append(e)
    for rows in out.values():
        rows.sort(key=lambda e: e["bytes"] or 0)
    return out


def size_axis(ax, sizes):
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([size_label(s) for s in sizes], fontsize=7)
    ax.set_xlabel("size", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    ax.tick_params(axis="y", labelsize=7)


def sweep_figure(path, title, by_system, order, baseline_note):
    """Left: time per operation against size, every system; right: cannery's
    time over each other system's (below 1: cannery takes less)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.6), dpi=DPI)
    sizes = sorted({e["bytes"] for rows in by_system.values() for e in rows})
    for system in order:
        rows = by_system.get(system)
        if not rows:
            continue
        name, colour, marker = STYLE[system]
        x = [e["bytes"] for e in rows]
        y = [e["median"] for e in rows]
        low = [e["median"] - min(e["values"]) for e in rows]
        high = [max(e["values"]) - e["median"] for e in rows]
        left.errorbar(x, y, yerr=[low, high], label=name, color=colour, marker=marker, markersize=4,
                      linewidth=1.5 if system == "cannery" else 1, capsize=2)
    left.set_yscale("log")
    left.set_ylabel("seconds per operation (median of rounds)", fontsize=8)
    left.set_title(title, fontsize=9)
    left.legend(fontsize=7)
    size_axis(left, sizes)
    mine = {e["bytes"]: e["median"] for e in by_system.get("cannery", [])}
    for system in order:
        if system == "cannery" or not by_system.get(system):
            continue
        name, colour, marker = STYLE[system]
        pairs = [(e["bytes"], mine[e["bytes"]] / e["median"]) for e in by_system[system] if e["bytes"] in mine]
        if pairs:
            right.plot(*zip(*pairs), label="cannery / " + name, color=colour, marker=marker, markersize=4)
    right.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    right.set_yscale("log")
    right.set_ylabel("cannery time / baseline time", fontsize=8)
    right.set_title("ratio (below 1: cannery faster); " + baseline_note, fontsize=8)
    right.legend(fontsize=7)
    size_axis(right, sizes)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def bar_panel(ax, title, ylabel, rows, order, log, unit):
    systems = [s for s in order if s in rows]
    values = [rows[s]["median"] for s in systems]
    lows = [rows[s]["median"] - min(rows[s]["values"]) for s in systems]
    highs = [max(rows[s]["values"]) - rows[s]["median"] for s in systems]
    ax.bar(range(len(systems)), values, yerr=[lows, highs], capsize=3,
           color=[STYLE[s][1] for s in systems])
    ax.set_xticks(range(len(systems)))
    ax.set_xticklabels([label(s).replace(" ", "\n", 1) for s in systems], fontsize=7)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    for i, (v, high) in enumerate(zip(values, highs)):
        ax.annotate(figure(v, unit), (i, v + high), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
    if values:  # room above the tallest bar for its figure
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top * (3 if log else 1.15))


def cluster_figure(path, entries):
    """Four panels, each cannery beside raw cppzmq (where there is one) and
    the peers with 2 engines or workers."""
    order = ["cannery", "raw_zmq", "ipyparallel", "dask"]
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4), dpi=DPI)

    def rows(workload):
        return {e["system"]: e for e in entries if e["section"] == "cluster" and e["workload"] == workload}

    bar_panel(axes[0], "apply round trip", "seconds (log)", rows("apply_roundtrip"), order, True, "s")
    bar_panel(axes[1], "pipelined small tasks", "tasks per second (log)", rows("pipelined_small_tasks"), order, True,
              "tasks/s")
    bar_panel(axes[2], "put 400 MB + 20 tasks", "seconds (log)", rows("put_weights"), order, True, "s")
    peaks = axes[3]
    client, engine = rows("peak_client"), rows("peak_engine")
    systems = [s for s in order if s in client or s in engine]
    for offset, (rows_of, name, hatch) in enumerate(((client, "caller", ""), (engine, "largest engine", "//"))):
        xs = [i + (offset - 0.5) * 0.38 for i, s in enumerate(systems) if s in rows_of]
        ys = [rows_of[s]["median"] for s in systems if s in rows_of]
        peaks.bar(xs, ys, width=0.38, hatch=hatch, label=name, edgecolor="black",
                  color=[STYLE[s][1] for s in systems if s in rows_of])
    peaks.set_xticks(range(len(systems)))
    peaks.set_xticklabels([label(s).replace(" ", "\n", 1) for s in systems], fontsize=7)
    peaks.set_title("peak memory in the put", fontsize=9)
    peaks.set_ylabel("peak resident / 400 MB payload", fontsize=8)
    peaks.tick_params(axis="y", labelsize=7)
    peaks.legend(fontsize=7)
    peaks.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def compression_figure(path, comp, codecs, kinds, link_bytes_per_second):
    """Throughput per data kind, one bar per codec (none first: the
    baseline), and the bytes on the wire per uncompressed byte."""
    entries = {(e["codec"], e["data"]): e for e in comp["entries"]}
    codecs = [c for c in codecs if any((c, k) in entries for k in kinds)] + sorted(
        {c for c, _ in entries} - set(codecs))
    kinds = [k for k in kinds if any((c, k) in entries for c in codecs)] + sorted({k for _, k in entries} - set(kinds))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.6), dpi=DPI)
    width = 0.8 / max(len(codecs), 1)
    colours = plt.cm.viridis([i / max(len(codecs) - 1, 1) for i in range(len(codecs))])
    for i, codec in enumerate(codecs):
        xs = [j + (i - (len(codecs) - 1) / 2) * width for j, k in enumerate(kinds) if (codec, k) in entries]
        rate = [(entries[(codec, k)]["bytes_per_second"] or 0) / 1e6 for k in kinds if (codec, k) in entries]
        wire = [entries[(codec, k)]["wire_fraction"] or 0 for k in kinds if (codec, k) in entries]
        colour = "#7f7f7f" if codec == "none" else colours[i]
        left.bar(xs, rate, width=width, label=codec, color=colour)
        right.bar(xs, wire, width=width, label=codec, color=colour)
    left.axhline(link_bytes_per_second / 1e6, color="black", linestyle="--", linewidth=0.8)
    left.annotate("1 Gbit/s link", (len(kinds) - 0.5, link_bytes_per_second / 1e6), fontsize=7,
                  ha="right", va="bottom")
    for ax, title, ylabel in ((left, "delivered and decoded, per codec", "uncompressed MB/s"),
                              (right, "bytes on the wire", "wire bytes / uncompressed bytes")):
        ax.set_xticks(range(len(kinds)))
        ax.set_xticklabels(kinds, fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, axis="y", alpha=0.3)
    left.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
