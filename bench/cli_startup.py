"""How long `roundtable --help` takes (issue 2: under a second), as a user runs it.

Usage: python bench/cli_startup.py [--runs 10]

Runs the installed console script in a fresh process each time and prints the median and the
slowest run, beside the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("roundtable"))
    times = []
    for _ in range(args.runs):
        began = time.perf_counter()
        subprocess.run([script, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load {os.getloadavg()[0]:.1f}")
    print(f"roundtable --help: median {statistics.median(times):.3f} s, slowest "
          f"{max(times):.3f} s over {args.runs} runs (target < 1 s)")


if __name__ == "__main__":
    main()
