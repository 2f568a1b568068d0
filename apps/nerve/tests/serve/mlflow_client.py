"""A client written against MLflow's scoring protocol, unchanged: it reads a CSV with pandas and
posts it to `/invocations` the ways MLflow's documentation and its own client
(`mlflow.pyfunc.scoring_server.client`, `json.dumps` with a NumPy encoder, so a missing value is
a bare NaN) send a DataFrame. Prints each way's answer as one JSON object.

    python3 mlflow_client.py http://127.0.0.1:PORT/invocations data.csv
"""

import json
import sys
import urllib.request

import numpy as np
import pandas as pd

url, path = sys.argv[1:3]
frame = pd.read_csv(path)


def numpy_default(value):
    """What MLflow's NumpyEncoder does for NumPy scalars and arrays."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(type(value))


def post(body, content_type):
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": content_type})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


answers = {
    "dataframe_split (json.dumps)": post(
        json.dumps({"dataframe_split": frame.to_dict(orient="split")}, default=numpy_default),
        "application/json"),
    "dataframe_records (json.dumps)": post(
        json.dumps({"dataframe_records": frame.to_dict(orient="records")}, default=numpy_default),
        "application/json"),
    "dataframe_split (to_json)": post(
        '{"dataframe_split": ' + frame.to_json(orient="split") + "}", "application/json"),
    "dataframe_records (to_json)": post(
        '{"dataframe_records": ' + frame.to_json(orient="records") + "}", "application/json"),
    "text/csv (to_csv)": post(frame.to_csv(index=False), "text/csv"),
}
print(json.dumps(answers))
