"""The report's machinery (ctest -L report): make_report on the output of a
real, short run of cannery's benchmark programs and of one peer, then checks
that the page names every section, that every PNG it shows exists, and that
what did not run is said on the page. Run with Debian's Python:

    CANNERY_BIN_DIR=build/bin /usr/bin/python3 -m pytest scripts/report/test_report.py

Nothing here asserts on timings: only that figures were measured and shown.
"""

import json
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("CANNERY_BIN_DIR", os.path.join(ROOT, "build", "bin"))
sys.path.insert(0, HERE)

import make_report  # noqa: E402
import page  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_to(out_path, argv, timeout=60):
    """Runs argv, its standard output into out_path; fails the test with
    its standard error when it fails."""
    with open(out_path, "w") as out:
        done = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, text=True, timeout=timeout)
    assert done.returncode == 0, "%s failed:\n%s" % (argv[0], done.stderr[-3000:])


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """One round of a real run, as small as it gets: the 1 KiB sizes of the
    sweeps, the round trips of bench_cluster, pickle 5 as the only peer."""
    for program in ("bench_canning", "bench_messaging", "bench_cluster", "cannery-engine"):
        assert os.access(os.path.join(BIN, program), os.X_OK), "build %s first (in %s)" % (program, BIN)
    raw = tmp_path_factory.mktemp("raw")
    round_dir = raw / "round-1"
    round_dir.mkdir()
    brief = ["--benchmark_format=json", "--benchmark_min_time=0.01"]
    run_to(round_dir / "canning.json",
           [os.path.join(BIN, "bench_canning"), "--benchmark_filter=^(sweep_(array|weights)/1024|small_message)$"] + brief)
    run_to(round_dir / "messaging.json",
           [os.path.join(BIN, "bench_messaging"), "--benchmark_filter=^sweep_(raw_zmq_)?span_tcp/1024(/|$)"] + brief)
    run_to(round_dir / "cluster.json",
           [os.path.join(BIN, "bench_cluster"), "--benchmark_filter=^(raw_zmq_roundtrip|apply_roundtrip)(/|$)"]
           + brief, timeout=120)
    run_to(round_dir / "peers-serialize.out",
           ["/usr/bin/python3", "-B", os.path.join(HERE, "peers.py"), "serialize", "--sizes", "1024",
            "--peers", "pickle5", "--min-time", "0.01", "--out", str(round_dir / "peers-serialize.json")])
    run_to(raw / "machine.out",
           ["/usr/bin/python3", "-B", os.path.join(HERE, "machine.py"), "--root", ROOT,
            "--build", os.path.dirname(BIN), "--out", str(raw / "machine.json")])
    return raw


def images(html):
    return re.findall(r'<img src="([^"]+)"', html)


def test_every_section_and_png_from_a_real_run(raw, tmp_path):
    results = make_report.make(str(raw), str(tmp_path))
    html = (tmp_path / "index.html").read_text()
    for section, heading in page.SECTIONS:
        assert 'id="%s"' % section in html and heading in html, section
    shown = images(html)
    assert set(shown) >= {"serialize_array.png", "serialize_weights.png", "transfer.png", "cluster.png"}
    for name in shown:
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
    # Measured, not merely drawn: each program's figures and the peer's.
    systems = {(e["section"], e["workload"], e["system"]) for e in results["entries"]}
    assert {("serialize", "array", "cannery"), ("serialize", "weights", "cannery"),
            ("serialize", "array", "pickle5"), ("serialize", "small_message", "cannery"),
            ("serialize", "small_message", "pickle5"), ("transfer", "array", "cannery"),
            ("transfer", "array", "raw_zmq"), ("cluster", "apply_roundtrip", "cannery"),
            ("cluster", "apply_roundtrip", "raw_zmq")} <= systems
    assert any(r["other"] == "pickle5" for r in results["ratios"])
    assert any(r["other"] == "raw_zmq" and r["section"] == "transfer" for r in results["ratios"])
    assert results["errors"] == []
    # The machine section: read on this machine, not left blank.
    about = json.loads((tmp_path / "results.json").read_text())["about"]
    assert about["machine"]["cores"] and about["versions"]["cannery"] and about["date"]
    summary = (tmp_path / "summary.md").read_text()
    assert "| cannery / pickle 5" in summary and "| transfer, one array, 1 KiB |" in summary


def test_missing_compression_benchmarks_are_said_in_their_section(raw, tmp_path):
    make_report.make(str(raw), str(tmp_path))
    html = (tmp_path / "index.html").read_text()
    section = html.split('id="compression"', 1)[1].split("</section>", 1)[0]
    assert 'class="absent"' in section and "absent" in section
    assert not (tmp_path / "compression.png").exists()


def test_compression_plot_against_the_benchmarks_schema(raw, tmp_path):
    """compressed_link/<codec>/<data> as bench_messaging reports them
    (bytes_per_second, wire_fraction). The figures here are made up to check
    the plotting against the schema; they stay in this temporary folder."""
    fake = tmp_path / "raw"
    subprocess.run(["cp", "-r", str(raw), str(fake)], check=True)
    runs = []
    for codec in ("none", "lz4", "zstd", "blosc_lz4", "blosc_zstd", "auto"):
        for i, data in enumerate(("smooth", "zeros", "integers", "random")):
            runs.append({"name": "compressed_link/%s/%s/real_time" % (codec, data), "run_type": "iteration",
                         "real_time": 1.0, "time_unit": "s", "bytes_per_second": 1e8 * (1 + i),
                         "wire_fraction": 1.0 if codec == "none" else 0.5})
    (fake / "compression.json").write_text(json.dumps({"context": {}, "benchmarks": runs}))
    results = make_report.make(str(fake), str(tmp_path / "out"))
    html = (tmp_path / "out" / "index.html").read_text()
    assert "compression.png" in images(html)
    assert (tmp_path / "out" / "compression.png").read_bytes().startswith(PNG_MAGIC)
    assert len(results["compression"]["ratios"]) == 5 * 4 and results["compression"]["note"] is None


def test_a_failed_step_is_named_on_the_page(raw, tmp_path):
    broken = tmp_path / "raw"
    subprocess.run(["cp", "-r", str(raw), str(broken)], check=True)
    (broken / "round-1" / "messaging.json").write_text("")  # a step that printed nothing
    (broken / "round-1" / "peers-dask.json").write_text("")
    (broken / "notes.txt").write_text("round 1: peers ipyparallel failed (exit 124, over 300 s)\n")
    make_report.make(str(broken), str(tmp_path / "out"))
    html = (tmp_path / "out" / "index.html").read_text()
    problems = html.split('class="problems"', 1)[1].split("</div>", 1)[0]
    for named in ("messaging", "dask", "ipyparallel failed"):
        assert named in problems
    assert (tmp_path / "out" / "transfer.png").exists()  # drawn with what there is
