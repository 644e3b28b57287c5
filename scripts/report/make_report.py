"""Writes a report from one run's raw output: index.html, its PNGs,
results.json (everything the page shows, machine-readable) and summary.md
(the tables, as Markdown for the README).

    make_report.py --raw build/report/raw --out build/report

scripts/bench-report.sh runs it after the measurements; it can be run again
on the same raw folder. Exits non-zero only when it cannot write the report:
a missing measurement is named on the page instead.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import collect  # noqa: E402
import page  # noqa: E402
import plots  # noqa: E402

LINK_BYTES_PER_SECOND = 1e9 / 8  # the test hosts' tbf rate, 1 Gbit/s (DESIGN.md)


def make(raw, out):
    results = collect.collect(raw)
    entries = results["entries"]
    os.makedirs(out, exist_ok=True)
    pngs = []

    def png(name):
        pngs.append(name)
        return os.path.join(out, name)

    peers = ["cannery", "ipyparallel", "dask", "pickle5"]
    plots.sweep_figure(png("serialize_array.png"), "serialize + deserialize, one float64 array",
                       plots.select(entries, "serialize", "array"), peers, "against the peers")
    plots.sweep_figure(png("serialize_weights.png"), "serialize + deserialize, 50 arrays of that size in all",
                       plots.select(entries, "serialize", "weights"), peers, "against the peers")
    plots.sweep_figure(png("transfer.png"), "one array over tcp on 127.0.0.1, end to end",
                       plots.select(entries, "transfer", "array"),
                       ["cannery", "raw_zmq", "dask_comm", "ipyparallel"], "against raw cppzmq and the peers")
    plots.cluster_figure(png("cluster.png"), entries)
    if results["compression"]["entries"]:
        plots.compression_figure(png("compression.png"), results["compression"], collect.CODECS,
                                 collect.DATA_KINDS, LINK_BYTES_PER_SECOND)
    results["pngs"] = pngs
    page.write_html(os.path.join(out, "index.html"), results)
    page.write_summary(os.path.join(out, "summary.md"), results)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    results = make(args.raw, args.out)
    print("report: %s (%d rounds, %d figures, %d PNGs, %d problems named on the page)" % (
        os.path.join(args.out, "index.html"), results["rounds"], len(results["entries"]),
        len(results["pngs"]), len(results["errors"]) + len(results["notes"])))


if __name__ == "__main__":
    main()
