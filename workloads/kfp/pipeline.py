"""Kubeflow Pipelines workload: train -> evaluate -> upload_register, run with kfp.local.

    .venvs/kfp/bin/python workloads/kfp/pipeline.py --mlflow-uri URL --s3-endpoint URL \
        --bucket NAME --model-name NAME --pipeline-root DIR --run-tag ID

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION;
MLFLOW_HTTP_REQUEST_* are honoured when set. Tasks run as subprocesses of this
interpreter (SubprocessRunner, use_venv=False), so nothing is installed or pulled.

stdout carries exactly one JSON line; kfp.local's logs and the task output go to stderr.
  success (exit 0): {"status":"SUCCEEDED","accuracy":..,"s3_uri":..,"sha256":..,
                     "model_name":..,"model_version":..,"run_id":..}
  failure (exit 1): {"status":"FAILED","error":"<failing task and cause>"}
"""

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
from typing import NamedTuple

from kfp import dsl, local
from kfp.dsl import Input, Model, Output

# The SubprocessRunner never pulls the image; naming it only silences kfp's
# default-base-image FutureWarning. install_kfp_package=False keeps kfp from
# prefixing every task with `pip install kfp==...`, which would need an index.
COMPONENT = dict(base_image="python:3.11", install_kfp_package=False)


def _split():
    """Deterministic data set and train/test split shared by train and evaluate."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    x, y = make_classification(n_samples=500, n_features=6, n_informative=4, random_state=7)
    return train_test_split(x, y, test_size=0.25, random_state=7, stratify=y)


@dsl.component(additional_funcs=[_split], **COMPONENT)
def train(model: Output[Model]):
    import os

    import xgboost

    x_train, _, y_train, _ = _split()
    clf = xgboost.XGBClassifier(n_estimators=20, max_depth=3, random_state=7)
    clf.fit(x_train, y_train)
    os.makedirs(model.path, exist_ok=True)
    clf.save_model(os.path.join(model.path, "model.xgb"))


@dsl.component(additional_funcs=[_split], **COMPONENT)
def evaluate(model: Input[Model]) -> float:
    import os

    import xgboost
    from sklearn.metrics import accuracy_score

    _, x_test, _, y_test = _split()
    clf = xgboost.XGBClassifier()
    clf.load_model(os.path.join(model.path, "model.xgb"))
    accuracy = float(accuracy_score(y_test, clf.predict(x_test)))
    if accuracy < 0.7:
        raise RuntimeError(f"accuracy {accuracy:.4f} is below the 0.7 threshold")
    return accuracy


@dsl.component(**COMPONENT)
def upload_register(
    model: Input[Model],
    accuracy: float,
    mlflow_uri: str,
    s3_endpoint: str,
    bucket: str,
    model_name: str,
    run_tag: str,
) -> NamedTuple("Outputs", s3_uri=str, sha256=str, model_version=str, run_id=str):
    import hashlib
    import os
    from collections import namedtuple

    # Bound every MLflow HTTP call (defaults: 7 retries, 120 s each) unless the
    # harness chose; telemetry would phone home.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"

    import boto3
    import mlflow
    import mlflow.xgboost
    import xgboost
    from botocore.config import Config
    from botocore.exceptions import ClientError

    path = os.path.join(model.path, "model.xgb")
    with open(path, "rb") as f:
        data = f.read()
    sha256 = hashlib.sha256(data).hexdigest()

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=5,
            read_timeout=15,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )
    # Create-and-tolerate rather than head-then-create: no race between concurrent runs.
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
    key = f"{run_tag}/model.xgb"
    s3.put_object(Bucket=bucket, Key=key, Body=data)
    # Read back: a store that acknowledges a write it did not keep must fail here.
    stored = hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()
    if stored != sha256:
        raise RuntimeError(f"s3://{bucket}/{key} read back sha256 {stored}, uploaded {sha256}")

    mlflow.set_tracking_uri(mlflow_uri)
    mlflow.set_experiment("kfp-pipelines")
    clf = xgboost.XGBClassifier()
    clf.load_model(path)
    with mlflow.start_run() as run:
        mlflow.log_param("run_tag", run_tag)
        mlflow.log_metric("accuracy", accuracy)
        info = mlflow.xgboost.log_model(
            clf,
            name="model",
            registered_model_name=model_name,
            # Explicit requirements skip inference, which re-loads the model in a child process.
            pip_requirements=[f"xgboost=={xgboost.__version__}"],
            # Bounded wait that also fails unless the version reaches READY.
            await_registration_for=30,
        )
    if info.registered_model_version is None:
        raise RuntimeError(f"model {model_name!r} was logged but not registered")

    outputs = namedtuple("Outputs", ["s3_uri", "sha256", "model_version", "run_id"])
    return outputs(f"s3://{bucket}/{key}", sha256, str(info.registered_model_version), run.info.run_id)


PipelineOutputs = NamedTuple(
    "PipelineOutputs", accuracy=float, s3_uri=str, sha256=str, model_version=str, run_id=str
)


@dsl.pipeline(name="kfp-chaos-train-register")
def train_register(
    mlflow_uri: str, s3_endpoint: str, bucket: str, model_name: str, run_tag: str
) -> PipelineOutputs:
    trained = train()
    evaluated = evaluate(model=trained.outputs["model"])
    uploaded = upload_register(
        model=trained.outputs["model"],
        accuracy=evaluated.output,
        mlflow_uri=mlflow_uri,
        s3_endpoint=s3_endpoint,
        bucket=bucket,
        model_name=model_name,
        run_tag=run_tag,
    )
    return PipelineOutputs(
        accuracy=evaluated.output,
        s3_uri=uploaded.outputs["s3_uri"],
        sha256=uploaded.outputs["sha256"],
        model_version=uploaded.outputs["model_version"],
        run_id=uploaded.outputs["run_id"],
    )


# Last line of a Python traceback, e.g. "botocore.exceptions.EndpointConnectionError: ...".
EXCEPTION_LINE = re.compile(r"^\s*((?:\w+\.)*\w*(?:Error|Exception|Exit|Interrupt)\b.*)$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TaskLog(io.TextIOBase):
    """stdout replacement for kfp.local: forwards everything to stderr and keeps
    the current task's last exception line, because kfp.local reports only which
    task failed, not why."""

    def __init__(self):
        self.partial = ""
        self.last_exception = None

    def write(self, text):
        sys.stderr.write(text)
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            line = ANSI.sub("", line)
            if "Executing task" in line:
                self.last_exception = None
            elif match := EXCEPTION_LINE.match(line):
                self.last_exception = match.group(1).strip()
        return len(text)

    def writable(self):
        return True

    def flush(self):
        sys.stderr.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for flag in ("--mlflow-uri", "--s3-endpoint", "--bucket", "--model-name", "--pipeline-root", "--run-tag"):
        parser.add_argument(flag, required=True)
    args = parser.parse_args()

    # kfp.local writes each task's source to `mktemp -d` and never removes it;
    # point the tasks' TMPDIR at a per-run dir that is removed afterwards.
    os.makedirs(args.pipeline_root, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="kfp-tmp-", dir=args.pipeline_root)
    os.environ["TMPDIR"] = tmp

    log = TaskLog()
    try:
        with contextlib.redirect_stdout(log):
            local.init(
                runner=local.SubprocessRunner(use_venv=False),
                pipeline_root=args.pipeline_root,
                raise_on_error=True,
            )
            run = train_register(
                mlflow_uri=args.mlflow_uri,
                s3_endpoint=args.s3_endpoint,
                bucket=args.bucket,
                model_name=args.model_name,
                run_tag=args.run_tag,
            )
        outputs = run.outputs
        result = {
            "status": "SUCCEEDED",
            "accuracy": outputs["accuracy"],
            "s3_uri": outputs["s3_uri"],
            "sha256": outputs["sha256"],
            "model_name": args.model_name,
            "model_version": outputs["model_version"],
            "run_id": outputs["run_id"],
        }
    except Exception as e:  # report any failure as the contract's JSON line
        error = ANSI.sub("", str(e)) or type(e).__name__
        if log.last_exception:
            error += f" Cause: {log.last_exception[:1000]}"
        result = {"status": "FAILED", "error": error}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, separators=(",", ":")), flush=True)
    sys.exit(0 if result["status"] == "SUCCEEDED" else 1)


if __name__ == "__main__":
    main()
