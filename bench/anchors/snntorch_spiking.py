#!/usr/bin/env python3
"""W7 `spiking_digits` with snnTorch: the anchor for `nerve bench --workload spiking_digits`.

The same work as nerve's W7 (apps/nerve/src/commands/bench/workloads.rs): the digits training
split of datasets/splits.json, z-scored by the training rows; 64 -> 100 Leaky (beta 0.95,
threshold 1, reset by subtraction, fast sigmoid surrogate with slope 25) -> 10 Leaky with
reset_mechanism="none" (a non-spiking readout); T = 25 steps of direct coding (the features as
input current at every step); logits = the readout membrane's mean over the steps;
cross-entropy; Adam 1e-3; batch 128, shuffled; 5 epochs; 2 threads. One warm-up of 20 steps,
then `--repeats` timed runs (seed = repeat). Prints one JSON line per run with nerve bench's
fields (time per step, samples per second, test accuracy, peak RSS).

    python3 bench/anchors/snntorch_spiking.py [--repeats 3]

Tested with snntorch 1.0.0, torch 2.15.0 (PyPI's Linux wheel, run on the CPU), numpy 2.4.6.
"""

import argparse
import csv
import json
import os
import resource
import time

import numpy as np
import snntorch as snn
import torch
import torch.nn.functional as F
from snntorch import surrogate

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
T = 25
BATCH = 128
EPOCHS = 5


def load():
    with open(os.path.join(ROOT, "datasets", "digits.csv")) as f:
        rows = list(csv.reader(f))[1:]
    x = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32)
    y = np.array([int(float(r[-1])) for r in rows], dtype=np.int64)
    with open(os.path.join(ROOT, "datasets", "splits.json")) as f:
        splits = json.load(f)["digits"]
    train, test = np.array(splits["train"]), np.array(splits["test"])
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[std == 0] = 1.0
    x = (x - mean) / std
    return (torch.from_numpy(x[train]), torch.from_numpy(y[train]),
            torch.from_numpy(x[test]), torch.from_numpy(y[test]))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        grad = surrogate.fast_sigmoid(slope=25)
        self.fc1 = torch.nn.Linear(64, 100)
        self.lif1 = snn.Leaky(beta=0.95, spike_grad=grad)
        self.fc2 = torch.nn.Linear(100, 10)
        self.lif2 = snn.Leaky(beta=0.95, spike_grad=grad, reset_mechanism="none")

    def forward(self, x):
        mem1 = self.lif1.reset_mem()
        mem2 = self.lif2.reset_mem()
        cur1 = self.fc1(x)  # direct coding: the same current at every step
        total = 0
        for _ in range(T):
            spk1, mem1 = self.lif1(cur1, mem1)
            _, mem2 = self.lif2(self.fc2(spk1), mem2)
            total = total + mem2
        return total / T


def train(net, x, y, epochs, seed):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    steps = 0
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
    return steps, float(loss.detach())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    xtr, ytr, xte, yte = load()
    for rep in range(args.repeats):
        torch.manual_seed(rep)
        warm = Net()
        train(warm, xtr[: 20 * BATCH], ytr[: 20 * BATCH], 1, rep)
        torch.manual_seed(rep)
        net = Net()
        start = time.perf_counter()
        steps, final_loss = train(net, xtr, ytr, EPOCHS, rep)
        wall = time.perf_counter() - start
        with torch.no_grad():
            accuracy = float((net(xte).argmax(1) == yte).float().mean())
        print(json.dumps({
            "workload": "spiking_digits",
            "impl": "snntorch",
            "threads": torch.get_num_threads(),
            "wall_s_train": wall,
            "samples_per_s": EPOCHS * len(xtr) / wall,
            "time_per_step_us": wall * 1e6 / steps,
            "metric_name": "test_accuracy",
            "metric": accuracy,
            "final_loss": final_loss,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "record": "bench",
            "rep": rep,
            "n_train": len(xtr),
            "epochs": EPOCHS,
            "steps": steps,
            "versions": {"snntorch": snn.__version__, "torch": torch.__version__},
        }), flush=True)


if __name__ == "__main__":
    main()
