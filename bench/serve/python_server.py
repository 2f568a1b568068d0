"""The comparison for `just bench-serve`: an MLflow-style scoring server in Python, as a team
without nerve would write it — FastAPI on uvicorn, `POST /invocations` taking MLflow's
`dataframe_split` into a pandas DataFrame, and a scikit-learn pipeline (StandardScaler, then an
MLPClassifier of the same size as nerve's network) answering with class names and
probabilities, as `mlflow models serve` does for a pyfunc model.

    NERVE_BENCH_DATA=datasets/iris.csv NERVE_BENCH_HIDDEN=32 \
        uvicorn --app-dir bench/serve python_server:app --port 8090 --workers 2

Training is kept short (the answers' speed does not depend on their quality).
"""

import json
import os
import warnings

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request, Response
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

DATA = os.environ["NERVE_BENCH_DATA"]
HIDDEN = tuple(int(h) for h in os.environ.get("NERVE_BENCH_HIDDEN", "32").split(","))

frame = pd.read_csv(DATA)
target = frame.columns[-1]
features = list(frame.columns[:-1])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=HIDDEN, max_iter=20, random_state=0))
    model.fit(frame[features], frame[target].astype(str))
classes = [str(c) for c in model.classes_]

app = FastAPI()


@app.post("/invocations")
async def invocations(request: Request):
    body = json.loads(await request.body())
    split = body["dataframe_split"]
    rows = pd.DataFrame(split["data"], columns=split["columns"])[features]
    probabilities = model.predict_proba(rows)
    predictions = [classes[i] for i in np.argmax(probabilities, axis=1)]
    answer = {"predictions": predictions, "classes": classes, "probabilities": probabilities.tolist()}
    return Response(json.dumps(answer), media_type="application/json")


@app.get("/ping")
async def ping():
    return {"status": "ok"}
