#!/usr/bin/env python3
"""Side-by-side benchmark: nerve against the anchors (PyTorch, scikit-learn, NumPy) on W1-W6.

Runs, for each workload in turn, `nerve bench` (every backend) and each anchor script, one at a
time (never two benchmarks at once), 3 repeats each, then prints a markdown table of medians and
the ratios nerve / anchor. Writes every JSON line to bench-results/<UTC time>.jsonl.

Env: ANCHORS_DIR (default bench/anchors), ANCHORS_PY (default
$HOME/.cache/anchors-venv/bin/python, made by bench/anchors/setup_venv.sh), NERVE (default
$CARGO_TARGET_DIR or target, release/nerve), REPEATS (3), WORKLOADS (space separated),
ISA=avx2 (on an AVX-512 machine, restrict the anchors' libraries to their AVX2 kernels — MKL,
oneDNN, PyTorch's ATen, OpenBLAS, NumPy's own loops — to stand in for an AVX2-only CPU; pair it
with a nerve built without burn's `x86-v4` feature, see BENCHMARKS.md).
"""
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ANCHORS = os.environ.get("ANCHORS_DIR", os.path.join(ROOT, "bench", "anchors"))
PY = os.environ.get("ANCHORS_PY", os.path.expanduser("~/.cache/anchors-venv/bin/python"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
NERVE = os.environ.get("NERVE", os.path.join(TARGET, "release", "nerve"))
REPEATS = os.environ.get("REPEATS", "3")
WORKLOADS = os.environ.get("WORKLOADS", "xor iris digits diabetes mnist_like wide").split()
ANCHOR_SCRIPTS = {"torch": "torch_mlp.py", "sklearn": "sklearn_mlp.py", "numpy": "numpy_mlp.py"}
ISA = os.environ.get("ISA", "")
# Each library's documented switch down to AVX2 kernels.
AVX2_ENV = {
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "OPENBLAS_CORETYPE": "Haswell",
    # numpy 2.4's dispatch groups (checked: X86_V4 and the AVX-512 groups read False after it).
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}


def run(cmd, cwd=None):
    """Runs one benchmark process; returns its JSON bench records."""
    t0 = time.time()
    env = dict(os.environ, **AVX2_ENV) if ISA == "avx2" else None
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.stderr.write(f"FAILED ({out.returncode}): {' '.join(cmd)}\n{out.stderr[-2000:]}\n")
        return []
    sys.stderr.write(f"   {' '.join(os.path.basename(c) for c in cmd[:3])}: {time.time() - t0:.1f} s\n")
    records = []
    for line in out.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get("record", "bench") == "bench" and "workload" in r:
            records.append(r)
    return records


def main():
    for path, what in [(PY, "the anchors' python (run setup_venv.sh)"), (NERVE, "nerve (cargo build --release -p nerve)")]:
        if not os.path.exists(path):
            sys.exit(f"missing {what}: {path}")
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_path = os.path.join(ROOT, "bench-results", f"{stamp}{'-' + ISA if ISA else ''}.jsonl")
    records = []
    for w in WORKLOADS:
        sys.stderr.write(f"== {w}\n")
        records += run([NERVE, "bench", "--workload", w, "--repeats", REPEATS])
        for impl, script in ANCHOR_SCRIPTS.items():
            records += run([PY, script, w, "--repeats", REPEATS], cwd=ANCHORS)
    with open(out_path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    print(table(records))
    print(f"\n(raw records: {os.path.relpath(out_path, ROOT)})")


def medians(records):
    groups = {}
    for r in records:
        groups.setdefault((r["workload"], r["impl"]), []).append(r)
    return {
        key: {
            field: statistics.median(x[field] for x in rs if x.get(field) is not None)
            for field in ["wall_s_train", "samples_per_s", "time_per_step_us", "metric", "final_loss"]
        } | {"metric_name": rs[0]["metric_name"], "n": len(rs),
             "peak_rss_mb": max((x.get("peak_rss_mb") or 0) for x in rs),
             "spread": (max(x["wall_s_train"] for x in rs) - min(x["wall_s_train"] for x in rs))
             / statistics.median(x["wall_s_train"] for x in rs)}
        for key, rs in groups.items()
    }


def table(records):
    m = medians(records)
    lines = ["| workload | impl | us/step | samples/s | metric | median | spread | nerve-flex ratio (time/step) |",
             "|---|---|---|---|---|---|---|---|"]
    for w in WORKLOADS:
        impls = [k[1] for k in m if k[0] == w]
        ours = m.get((w, "nerve-flex"))
        for impl in sorted(impls, key=lambda i: (not i.startswith("nerve"), i)):
            r = m[(w, impl)]
            ratio = ""
            if ours and not impl.startswith("nerve"):
                ratio = f"{ours['time_per_step_us'] / r['time_per_step_us']:.2f}"
            lines.append(
                f"| {w} | {impl} | {r['time_per_step_us']:,.1f} | {r['samples_per_s']:,.0f} | "
                f"{r['metric_name']} | {r['metric']:.4g} | {r['spread'] * 100:.0f}% | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
