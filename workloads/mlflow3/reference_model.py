"""Trains, logs, registers and aliases the reference model, and writes its golden set.

    python reference_model.py --name ref-model --alias champion --out DIR

Uses MLFLOW_TRACKING_URI (the harness points it through the client->mlflow edge). Data is
generated deterministically (no downloads). Writes DIR/reference.json:
  {model_name, version, alias, run_id, model_uri, artifact_location, model_file,
   golden: {columns, inputs, outputs}}
"""
import argparse
import json
import os

import mlflow
import numpy as np
import pandas as pd
import xgboost as xgb
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

FEATURES = [f"f{i}" for i in range(6)]
GOLDEN_ROWS = 8


def dataset():
    x, y = make_classification(n_samples=500, n_features=6, n_informative=4, random_state=7)
    return train_test_split(pd.DataFrame(x, columns=FEATURES), y, test_size=0.2, random_state=7)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--alias", default="champion")
    ap.add_argument("--experiment", default="reference-model")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    x_train, x_test, y_train, _ = dataset()
    model = xgb.XGBClassifier(n_estimators=20, max_depth=3, random_state=7, n_jobs=1)
    model.fit(x_train, y_train)

    mlflow.set_experiment(args.experiment)
    with mlflow.start_run(run_name="reference") as run:
        mlflow.log_params({"n_estimators": 20, "max_depth": 3})
        info = mlflow.xgboost.log_model(
            model,
            name="model",
            signature=infer_signature(x_train, model.predict(x_train)),
            registered_model_name=args.name,
        )
    client = MlflowClient()
    version = str(info.registered_model_version)
    client.set_registered_model_alias(args.name, args.alias, version)
    logged = client.get_logged_model(info.model_id)
    model_files = [f.path for f in client.list_logged_model_artifacts(info.model_id)]
    model_file = next((f for f in ("model.xgb", "model.json", "model.ubj") if f in model_files), "model.xgb")

    golden_x = x_test.head(GOLDEN_ROWS)
    out = {
        "model_name": args.name,
        "version": version,
        "alias": args.alias,
        "run_id": run.info.run_id,
        "model_uri": f"models:/{args.name}@{args.alias}",
        "artifact_location": logged.artifact_location,
        "model_file": model_file,
        "golden": {
            "columns": FEATURES,
            "inputs": golden_x.to_numpy(dtype=np.float64).tolist(),
            "outputs": [int(v) for v in model.predict(golden_x)],
        },
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "reference.json"), "w") as fh:
        json.dump(out, fh, indent=2)
    print(json.dumps({"model_name": args.name, "version": version, "artifact_location": logged.artifact_location}))


if __name__ == "__main__":
    main()
