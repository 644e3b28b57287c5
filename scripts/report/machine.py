"""The machine, the versions and the date of a report run, as JSON.

    machine.py --root REPO --build BUILD_DIR --out FILE

Everything is read on this machine at run time: lscpu's model, cores,
memory, kernel, load average; the cannery commit (and whether the work tree
had changes), g++, libzmq, Google Benchmark, the build type, and the Python
packages the peers use.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys


def run(*argv, cwd=None):
    """A command's first line of output, or None when it fails."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=cwd).stdout.strip()
        return out.splitlines()[0] if out else None
    except (OSError, subprocess.SubprocessError):
        return None


def lscpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^Model name:\s*(.+)$", out, re.M)
    return m.group(1).strip() if m else None


def memory_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def python_versions():
    out = {"python": sys.version.split()[0]}
    for name in ("numpy", "ipyparallel", "distributed", "matplotlib", "zmq"):
        try:
            out[name] = __import__(name).__version__
        except Exception:
            out[name] = "absent"
    return out


def build_type(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def collect(root, build):
    dpkg = lambda pkg: run("dpkg-query", "-W", "-f=${Version}", pkg)  # noqa: E731
    versions = {
        "cannery": run("git", "describe", "--always", "--dirty", "--abbrev=10", cwd=root),
        "g++": run("g++", "--version"),
        "libzmq": run("pkg-config", "--modversion", "libzmq"),
        "google benchmark": dpkg("libbenchmark-dev"),
        "msgpack-cxx": dpkg("libmsgpack-cxx-dev"),
        "build type": build_type(build),
    }
    versions.update(python_versions())
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {
            "cpu": lscpu_model(),
            "cores": os.cpu_count(),
            "memory_gib": memory_gib(),
            "kernel": platform.release(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": versions,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.out, "w") as f:
        json.dump(collect(args.root, args.build), f, indent=1)


if __name__ == "__main__":
    main()
