"""Writes the Parquet fixtures of apps/nerve/tests/parquet.rs, each beside the CSV file pandas
writes from the same DataFrame: nerve must read the two into the same typed table (train on
either, get the same model and metrics).

Run from this folder: python3 make_parquet.py (needs pandas and pyarrow; pyarrow 26.0.1 made
the committed files).
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(7)
n = 120

# Every column type nerve maps: integers, floats with nulls, booleans, strings with commas and
# quotes, dates, a pandas categorical (a Parquet dictionary), and a class target.
height = rng.normal(170, 10, n).round(1)
weight = (height - 100 + rng.normal(0, 5, n)).round(2)
weight[::17] = np.nan
smoker = rng.random(n) < 0.3
region = rng.choice(["north, upper", 'south "deep"', "east", "west"], n)
visit = pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
plan = pd.Categorical(rng.choice(["basic", "plus", "pro"], n))
age = rng.integers(18, 90, n).astype("int64")
risk = np.where(weight > 75, "high", "low")
risk = np.where(np.isnan(weight), np.where(smoker, "high", "low"), risk)

frame = pd.DataFrame(
    {
        "age": age,
        "height": height,
        "weight": weight,
        "smoker": smoker,
        "region": region,
        "visit": visit.date,
        "plan": plan,
        "risk": risk,
    }
)
frame["visit"] = pd.to_datetime(frame["visit"])
frame.to_parquet("people.parquet", engine="pyarrow", compression="snappy", index=False)
frame.to_parquet("people-zstd.parquet", engine="pyarrow", compression="zstd", index=False)
# pandas writes NaN as an empty cell, booleans as True/False, dates as YYYY-MM-DD.
frame.assign(visit=frame["visit"].dt.strftime("%Y-%m-%d")).to_csv("people.csv", index=False)

# A column nerve cannot use (a list per row) is an error naming it.
pd.DataFrame({"x": [1.0, 2.0], "tags": [["a"], ["b", "c"]], "y": [0, 1]}).to_parquet(
    "lists.parquet", engine="pyarrow", index=False
)
