#!/usr/bin/env python3
"""Checks numpy_mlp.py (the plain-NumPy anchor) against tests/fixtures/parity.json, in float64 and
float32. Doubles as an example of how an independent implementation consumes the fixtures."""
from __future__ import annotations

import json
import os
import sys

import common  # noqa: F401  (thread env)
import numpy as np

from numpy_mlp import MLP, SGD, Adam, ce_loss_grad, mse_loss_grad

HERE = os.path.dirname(os.path.abspath(__file__))


def T(d, dt):
    key = "f64" if dt == np.float64 else "f32"
    return np.asarray(d[key], dtype=dt).reshape(d["shape"])


def main():
    fx = json.load(open(os.path.join(HERE, "..", "..", "tests", "fixtures", "parity.json")))["cases"]
    worst = {}
    ok = True

    def cmp(name, got, ref, dt):
        nonlocal ok
        got = np.asarray(got, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64).reshape(got.shape)
        rtol, atol = (1e-10, 1e-12) if dt == np.float64 else (1e-5, 1e-5)
        err = float(np.max(np.abs(got - ref) - rtol * np.abs(ref))) if got.size else 0.0
        good = np.allclose(got, ref, rtol=rtol, atol=atol)
        ok &= bool(good)
        worst[f"{name}[{np.dtype(dt).name}]"] = (good, float(np.max(np.abs(got - ref))))

    for dt in (np.float64, np.float32):
        c = fx["mse"]
        l, g = mse_loss_grad(T(c["inputs"]["pred"], dt), T(c["inputs"]["target"], dt))
        cmp("mse.loss", l, T(c["outputs"]["loss"], np.float64), dt)
        cmp("mse.grad", g, T(c["outputs"]["grad_pred"], np.float64), dt)
        for k in ("cross_entropy", "cross_entropy_extreme"):
            c = fx[k]
            with np.errstate(over="ignore"):
                l, g = ce_loss_grad(T(c["inputs"]["logits"], dt),
                                    np.asarray(c["inputs"]["targets"]["i64"]))
            cmp(f"{k}.loss", l, T(c["outputs"]["loss"], np.float64), dt)
            cmp(f"{k}.grad", g, T(c["outputs"]["grad_logits"], np.float64), dt)
        c = fx["mlp"]
        inp = c["inputs"]
        m = MLP([3, 4, 2], np.random.default_rng(0), dtype=dt)
        m.W = [T(inp["w1"], dt).copy(), T(inp["w2"], dt).copy()]
        m.b = [T(inp["b1"], dt).copy(), T(inp["b2"], dt).copy()]
        x, y = T(inp["x"], dt), T(inp["target"], dt)
        out, cache = m.forward(x)
        l, dout = mse_loss_grad(out, y)
        gw1, gw2, gb1, gb2 = m.backward(cache, dout)
        cmp("mlp.out", out, T(c["outputs"]["out"], np.float64), dt)
        cmp("mlp.loss", l, T(c["outputs"]["loss"], np.float64), dt)
        for n, gg in (("w1", gw1), ("b1", gb1), ("w2", gw2), ("b2", gb2)):
            cmp(f"mlp.grad_{n}", gg, T(c["outputs"][f"grad_{n}"], np.float64), dt)
        for kind, block in (("sgd", "sgd_3_steps"), ("adam", "adam_3_steps")):
            mm = MLP([3, 4, 2], np.random.default_rng(0), dtype=dt)
            mm.W = [T(inp["w1"], dt).copy(), T(inp["w2"], dt).copy()]
            mm.b = [T(inp["b1"], dt).copy(), T(inp["b2"], dt).copy()]
            opt = SGD(mm.params(), 0.01) if kind == "sgd" else Adam(mm.params(), 0.01)
            for i, snap in enumerate(c[block]["params_after_step"]):
                o, ca = mm.forward(x)
                _, d = mse_loss_grad(o, y)
                opt.step(mm.backward(ca, d))
                for n, p in (("w1", mm.W[0]), ("b1", mm.b[0]), ("w2", mm.W[1]), ("b2", mm.b[1])):
                    cmp(f"{block}.step{i + 1}.{n}", p, T(snap[n], np.float64), dt)
    bad = {k: v for k, v in worst.items() if not v[0]}
    print(json.dumps({"record": "parity_check", "impl": "numpy", "checks": len(worst),
                      "failed": sorted(bad), "max_abs_err_f64": max(v[1] for k, v in worst.items() if "float64" in k),
                      "max_abs_err_f32": max(v[1] for k, v in worst.items() if "float32" in k)}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
