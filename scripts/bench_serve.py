#!/usr/bin/env python3
"""The load test of `nerve serve` (issue 21): `oha` against a local server, for the iris and
digits models, 1 and 64 rows per request, 1/8/64 concurrent connections, `--seconds` each:
requests/s, p50/p99 latency, errors (must be 0), and the server's memory (RSS) before and
after. In the same run, the same requests go to an MLflow-style Python server (FastAPI +
scikit-learn, bench/serve/python_server.py) with the same network size.

    python3 scripts/bench_serve.py [--seconds 30] [--no-python]

Needs `oha` (`cargo install oha --locked`; found on PATH, as $OHA, or in
~/.cache/oha-install/bin) and, for the Python side, the anchors' venv with pandas, fastapi and
uvicorn (bench/anchors/setup_venv.sh). Prints a Markdown table and writes every point as a JSON
line to bench-results/serve-<time>.jsonl.
"""

import argparse
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
NERVE = os.path.join(TARGET, "release", "nerve")
PYTHON = os.environ.get("ANCHOR_PYTHON", os.path.expanduser("~/.cache/anchors-venv/bin/python"))
# nerve's and scikit-learn's default hidden layer: 100 units.
HIDDEN = "100"


def find_oha():
    for candidate in [os.environ.get("OHA"), shutil.which("oha"),
                      os.path.expanduser("~/.cache/oha-install/bin/oha")]:
        if candidate and os.path.exists(candidate):
            return candidate
    sys.exit("oha not found: `cargo install oha --locked` (or set OHA=/path/to/oha)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    """The resident memory of a process and its children (uvicorn's workers), in KiB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def wait_ready(url, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server at {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{url} was not ready within {seconds} s")


def bodies(data, rows):
    """The first `rows` rows of a data set as a V2 request and an MLflow dataframe_split."""
    with open(data, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        table = [row for _, row in zip(range(rows), reader)]
    features = header[:-1]
    values = [[float(v) for v in row[:-1]] for row in table]
    v2 = {"inputs": [{"name": name, "datatype": "FP64", "shape": [rows],
                      "data": [row[j] for row in values]} for j, name in enumerate(features)]}
    split = {"dataframe_split": {"columns": features, "data": values}}
    return json.dumps(v2), json.dumps(split)


def load(oha, url, body_file, connections, seconds):
    out = subprocess.run(
        [oha, "-z", f"{seconds}s", "-c", str(connections), "--no-tui", "--output-format", "json",
         "-m", "POST", "-H", "Content-Type: application/json", "-D", body_file, url],
        check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    codes = report.get("statusCodeDistribution", {})
    ok = codes.get("200", 0)
    # `-z` stops at the deadline with each connection's request in flight: those are not errors.
    errors = sum(n for code, n in codes.items() if code != "200") + sum(
        n for error, n in report.get("errorDistribution", {}).items() if "deadline" not in error)
    latency = report["latencyPercentiles"]
    return {"requests_per_s": report["summary"]["requestsPerSec"], "ok": ok, "errors": errors,
            "p50_ms": latency["p50"] * 1000, "p99_ms": latency["p99"] * 1000}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", default="1,8,64")
    parser.add_argument("--rows", default="1,64")
    parser.add_argument("--no-python", action="store_true")
    args = parser.parse_args()
    oha = find_oha()
    connections = [int(c) for c in args.connections.split(",")]
    row_counts = [int(r) for r in args.rows.split(",")]
    work = tempfile.mkdtemp(prefix="nerve-bench-serve-")
    models = {}
    for name in ["iris", "digits"]:
        out = os.path.join(work, name)
        subprocess.run([NERVE, "train", "--data", name, "--hidden", HIDDEN, "--epochs", "20",
                        "--quiet", "--out", out], check=True, stdout=subprocess.DEVNULL)
        models[name] = os.path.join(out, "model.safetensors")
    files = {}
    for name in models:
        for rows in row_counts:
            v2, split = bodies(os.path.join(ROOT, "datasets", f"{name}.csv"), rows)
            for kind, text in [("v2", v2), ("split", split)]:
                path = os.path.join(work, f"{name}-{rows}-{kind}.json")
                with open(path, "w") as f:
                    f.write(text)
                files[(name, rows, kind)] = path
    points = []

    def run_series(label, url_of, kind, pid, names):
        for name in names:
            for rows in row_counts:
                for c in connections:
                    # A short warm-up, then the measured run.
                    load(oha, url_of(name), files[(name, rows, kind)], c, 2)
                    before = rss_kib(pid)
                    point = load(oha, url_of(name), files[(name, rows, kind)], c, args.seconds)
                    point.update({"server": label, "model": name, "rows": rows,
                                  "connections": c, "rss_before_kib": before,
                                  "rss_kib": rss_kib(pid)})
                    points.append(point)
                    print(json.dumps(point), flush=True)

    # nerve picks a free port and says which.
    nerve = subprocess.Popen(
        [NERVE, "serve", "-m", f"iris={models['iris']}", "-m", f"digits={models['digits']}",
         "--addr", "127.0.0.1:0"], stderr=subprocess.PIPE, text=True)
    first = nerve.stderr.readline()
    if "listening on http://127.0.0.1:" not in first:
        sys.exit(f"nerve serve did not start: {first}")
    port = int(first.split("listening on http://127.0.0.1:")[1].split()[0])
    # The rest of its stderr is read (and dropped) so it never blocks on a full pipe.
    threading.Thread(target=nerve.stderr.read, daemon=True).start()
    try:
        wait_ready(f"http://127.0.0.1:{port}/v2/health/ready", nerve)
        before = rss_kib(nerve.pid)
        run_series("nerve V2", lambda m: f"http://127.0.0.1:{port}/v2/models/{m}/infer", "v2",
                   nerve.pid, list(models))
        run_series("nerve /invocations",
                   lambda m: f"http://127.0.0.1:{port}/models/{m}/invocations", "split", nerve.pid,
                   list(models))
        after = rss_kib(nerve.pid)
        if nerve.poll() is not None:
            sys.exit("nerve serve stopped during the run")
        memory = [("nerve", before, after)]
    finally:
        nerve.terminate()
        nerve.wait()
    if not args.no_python:
        for name in models:
            # One BLAS thread per worker, as Python model servers are run (two workers on two
            # cores; more threads per worker only contend).
            env = dict(os.environ, NERVE_BENCH_DATA=os.path.join(ROOT, "datasets", f"{name}.csv"),
                       NERVE_BENCH_HIDDEN=HIDDEN, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                       MKL_NUM_THREADS="1")
            port = free_port()
            python = subprocess.Popen(
                [PYTHON, "-m", "uvicorn", "--app-dir", os.path.join(ROOT, "bench", "serve"),
                 "python_server:app", "--port", str(port), "--workers", "2",
                 "--log-level", "warning"], env=env, stderr=subprocess.DEVNULL)
            try:
                wait_ready(f"http://127.0.0.1:{port}/ping", python)
                before = rss_kib(python.pid)
                run_series("FastAPI + scikit-learn",
                           lambda m: f"http://127.0.0.1:{port}/invocations", "split",
                           python.pid, [name])
                memory.append((f"python ({name})", before, rss_kib(python.pid)))
            finally:
                python.terminate()
                python.wait()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(ROOT, "bench-results", f"serve-{stamp}.jsonl"), "w") as f:
        for point in points:
            f.write(json.dumps(point) + "\n")
    print()
    print("| server | model | rows/request | connections | requests/s | p50 ms | p99 ms | errors | RSS MiB (start → end) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in points:
        print(f"| {p['server']} | {p['model']} | {p['rows']} | {p['connections']} | "
              f"{p['requests_per_s']:,.0f} | {p['p50_ms']:.2f} | {p['p99_ms']:.2f} | {p['errors']} | "
              f"{p['rss_before_kib'] / 1024:.0f} → {p['rss_kib'] / 1024:.0f} |")
    print()
    for label, before, after in memory:
        print(f"{label}: RSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
