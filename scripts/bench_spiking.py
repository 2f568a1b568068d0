#!/usr/bin/env python3
"""W7 side by side: `nerve bench --workload spiking_digits` against snnTorch
(bench/anchors/snntorch_spiking.py), interleaved over `--rounds` rounds of `--repeats` runs each
so both see the same machine, then medians, spreads and the ratio of time per step (below 1:
nerve is faster) and peak memory.

    python3 scripts/bench_spiking.py [--rounds 2] [--repeats 3]

The snnTorch side runs with $ANCHOR_PYTHON (default: the anchors' venv,
~/.cache/anchors-venv/bin/python, which has torch and snntorch).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
NERVE = os.path.join(TARGET, "release", "nerve")
PYTHON = os.environ.get(
    "ANCHOR_PYTHON", os.path.expanduser("~/.cache/anchors-venv/bin/python"))


def lines(command):
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.startswith("{") and '"record"' in l]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    records = []
    for _ in range(args.rounds):
        records += lines([PYTHON, os.path.join(ROOT, "bench", "anchors", "snntorch_spiking.py"),
                          "--repeats", str(args.repeats)])
        records += lines([NERVE, "bench", "--workload", "spiking_digits",
                          "--repeats", str(args.repeats)])
    by = {}
    for r in records:
        by.setdefault(r["impl"], []).append(r)
    anchor = statistics.median(r["time_per_step_us"] for r in by["snntorch"])
    print(f"{'impl':<15} {'ms/step':>8} {'min':>7} {'max':>7} {'ratio':>6} {'accuracy':>9} {'peak MB':>8}")
    for impl, runs in by.items():
        t = [r["time_per_step_us"] / 1000 for r in runs]
        print(f"{impl:<15} {statistics.median(t):>8.2f} {min(t):>7.2f} {max(t):>7.2f} "
              f"{statistics.median(t) * 1000 / anchor:>6.3f} "
              f"{statistics.median(r['metric'] for r in runs):>9.4f} "
              f"{max(r['peak_rss_mb'] for r in runs):>8.0f}")


if __name__ == "__main__":
    sys.exit(main())
