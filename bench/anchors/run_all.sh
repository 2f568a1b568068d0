#!/usr/bin/env bash
# Runs the whole anchor kit sequentially (never two benchmarks at once) and writes
#   results/<date>.jsonl        every JSON line (env, datasets, fixtures, parity check, peak, bench)
#   results/<date>.log          stderr of every step
#   results/<date>.summary.md   tables made by summarize.py
# Env: PY (python of the venv, default $HOME/.cache/anchors-venv/bin/python; create it with
#      setup_venv.sh), REPEATS (default 3), ANCHORS_QUIET_WAIT_S (max seconds each repeat waits
#      for other processes to go below 0.3 busy cores; default 60), START_WAIT_S (wait for a
#      quiet machine before the timed part; default 900), QUIET_BUDGET_S (after this many seconds from
#      the start gate nobody waits any more; default 600), SKIP_T1=1 skips the
#      supplementary torch 1-thread rows, WORKLOADS (space separated subset).
# Each timed repeat records busy_cores_other_before/_during so contended runs are visible.
set -uo pipefail
cd "$(dirname "$0")"
PY=${PY:-$HOME/.cache/anchors-venv/bin/python}
REPEATS=${REPEATS:-3}
export ANCHORS_QUIET_WAIT_S=${ANCHORS_QUIET_WAIT_S:-60}
WORKLOADS=${WORKLOADS:-"xor iris digits diabetes mnist_like wide"}
[ -x "$PY" ] || { echo "no python at $PY; run ./setup_venv.sh first" >&2; exit 2; }
mkdir -p results
stamp=$(date +%F)
OUT=results/$stamp.jsonl
[ -e "$OUT" ] && { stamp=$(date +%F-%H%M%S); OUT=results/$stamp.jsonl; }
LOG=results/$stamp.log
: > "$OUT"; : > "$LOG"
t_start=$(date +%s)
fails=0

step() {  # step <label> <command...>: stdout -> jsonl, stderr -> log
  local label=$1; shift
  local t0=$EPOCHREALTIME
  echo "== $label ($(date +%T))" | tee -a "$LOG" >&2
  if "$@" >> "$OUT" 2>> "$LOG"; then :; else
    local rc=$?
    fails=$((fails + 1))
    echo "{\"record\": \"failure\", \"step\": \"$label\", \"rc\": $rc}" >> "$OUT"
    echo "   FAILED rc=$rc (see $LOG)" >&2
  fi
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "   %.1f s\n", b - a }' >&2
}

"$PY" - >> "$OUT" <<'PYEOF'
import json, os, platform, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
fam = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("cpu family")), "?")
flags = next((l.split(":", 1)[1].split() for l in open("/proc/cpuinfo") if l.startswith("flags")), [])
vers = {}
for m in ("numpy", "sklearn", "torch", "scipy"):
    try:
        vers[m] = __import__(m).__version__
    except Exception as e:
        vers[m] = f"unavailable: {e}"
print(json.dumps({"record": "env", "started": datetime.datetime.now().isoformat(timespec="seconds"),
                  "cpu": cpu, "cpu_family": fam, "nproc": os.cpu_count(),
                  "simd": [f for f in flags if f.startswith(("avx", "fma", "amx"))],
                  "python": platform.python_version(), "versions": vers,
                  "loadavg": os.getloadavg()}))
PYEOF

step datasets "$PY" datasets.py --check
# The parity fixtures are the repository's own (tests/fixtures/parity.json, written by
# tests/fixtures/fixtures.py); check_parity.py reads them.
step parity_check_numpy "$PY" check_parity.py
# Start gate (timing starts here): wait up to START_WAIT_S (default 900) for a quiet machine.
echo "== waiting for a quiet machine (<0.3 busy cores from other processes, max ${START_WAIT_S:-900} s) ($(date +%T))" | tee -a "$LOG" >&2
"$PY" -c "import common, sys, json; w, b = common.wait_quiet(float(sys.argv[1])); print(json.dumps({'record': 'start_gate', 'waited_s': w, 'busy_cores_other': b}))" "${START_WAIT_S:-900}" | tee -a "$OUT" >&2
export ANCHORS_QUIET_DEADLINE=$(( $(date +%s) + ${QUIET_BUDGET_S:-600} ))
step peak "$PY" peak.py numpy torch
for w in $WORKLOADS; do
  for impl in torch sklearn numpy; do
    step "$w/$impl" "$PY" "${impl}_mlp.py" "$w" --repeats "$REPEATS"
  done
  if [ "${SKIP_T1:-0}" != 1 ]; then
    step "$w/torch-1thread" env ANCHORS_THREADS=1 "$PY" torch_mlp.py "$w" --repeats "$REPEATS"
  fi
done
"$PY" summarize.py "$OUT" > "results/$stamp.summary.md" 2>> "$LOG" || fails=$((fails + 1))
echo "wrote $OUT, results/$stamp.summary.md; total $(( $(date +%s) - t_start )) s; failures: $fails" >&2
[ "$fails" = 0 ]
