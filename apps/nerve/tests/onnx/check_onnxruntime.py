"""Runs an ONNX model exported by `nerve export` in onnxruntime and compares it with `nerve predict`.

Usage: check_onnxruntime.py MODEL.onnx DATA.csv PREDICTIONS.csv

- `onnx.checker.check_model(full_check=True)` must pass (full_check runs ONNX's shape inference).
- The inputs are built the way the graph documents them: each numeric column as float64 (pandas'
  reading, NaN where missing), each categorical column as the cells' text exactly as written
  (`keep_default_na=False`, so an empty cell is "" and `NA` is "NA": the graph itself decides
  what is missing).
- PREDICTIONS.csv is `nerve predict --proba` output (or without --proba for regression): the
  labels must be identical and the probabilities / values within 1e-5 (values relative to
  their size), for the whole file and for batches of 1, 7 and 1000 rows (the file's rows
  repeated), so no batch size is baked into the graph.
- The outputs' names, element types and ranks are read back from the session and checked:
  plain tensors, no ZipMap-style sequence of maps.

Prints one JSON line: the largest differences and the outputs as onnxruntime describes them.
"""

import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pandas as pd


def main():
    model_path, data_path, predictions_path = sys.argv[1:4]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    inputs = json.loads(meta["inputs"])

    text = pd.read_csv(data_path, dtype=str, keep_default_na=False)
    numbers = pd.read_csv(data_path)
    # nerve trims the header's names; pandas keeps their spaces.
    text.columns = [c.strip() for c in text.columns]
    numbers.columns = [c.strip() for c in numbers.columns]
    columns = {}
    for spec in inputs:
        name = spec["name"]
        if spec["type"] == "string":
            columns[name] = text[name].to_numpy(dtype=object)
        else:
            columns[name] = pd.to_numeric(numbers[name], errors="coerce").to_numpy(dtype=np.float64)

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    outputs = {o.name: o for o in session.get_outputs()}
    described = {name: {"type": o.type, "shape": [str(d) for d in o.shape]} for name, o in outputs.items()}
    prediction = meta["prediction_output"]
    probabilities = meta.get("probabilities_output")
    assert described[prediction]["shape"] == ["N"], described
    if probabilities is not None:
        assert outputs[prediction].type == "tensor(string)", described
        assert outputs[probabilities].type == "tensor(float)", described
        assert described[probabilities]["shape"][0] == "N", described
        assert len(described[probabilities]["shape"]) == 2, described
    else:
        assert outputs[prediction].type == "tensor(double)", described
    for i in session.get_inputs():
        spec = next(s for s in inputs if s["name"] == i.name)
        expected = "tensor(string)" if spec["type"] == "string" else "tensor(double)"
        assert i.type == expected and [str(d) for d in i.shape] == ["N"], (i.name, i.type, i.shape)

    expected = pd.read_csv(predictions_path, dtype={"prediction": str}, keep_default_na=False)
    n = len(expected)
    assert n == len(text), (n, len(text))
    worst = 0.0
    for rows in [np.arange(n), np.arange(min(1, n)), np.arange(min(7, n)), np.arange(1000) % n]:
        feed = {name: values[rows] for name, values in columns.items()}
        got = dict(zip([o.name for o in session.get_outputs()], session.run(None, feed)))
        want = expected.iloc[rows]
        if probabilities is not None:
            labels = json.loads(meta["class_labels"])
            labels_got = [str(v) for v in got[prediction]]
            mismatched = [i for i, (a, b) in enumerate(zip(labels_got, want["prediction"])) if a != b]
            assert not mismatched, f"labels differ at rows {mismatched[:10]}"
            p_want = want[[f"p_{label}" for label in labels]].to_numpy(dtype=np.float64)
            assert got[probabilities].shape == (len(rows), len(labels)), got[probabilities].shape
            diff = np.abs(got[probabilities].astype(np.float64) - p_want).max()
            assert diff <= 1e-5, f"probabilities differ by {diff}"
        else:
            v_want = want["prediction"].astype(np.float64).to_numpy()
            assert got[prediction].shape == (len(rows),), got[prediction].shape
            diff = (np.abs(got[prediction].astype(np.float64) - v_want) / np.maximum(1.0, np.abs(v_want))).max()
            assert diff <= 1e-5, f"values differ by {diff} (relative)"
        worst = max(worst, float(diff))
    print(json.dumps({"max_difference": worst, "rows": n, "outputs": described}))


if __name__ == "__main__":
    main()
