"""KServe ModelServer (kserve 0.21) for the suite's reference XGBoost binary classifier.

Usage:
    .venvs/kserve/bin/python workloads/kserve/model_server.py --model-name NAME \
        --storage-uri s3://BUCKET/PREFIX --http-port PORT --model-dir DIR

At start it copies the model directory from --storage-uri into --model-dir with
kserve_storage's Storage.download (what KServe's storage initializer runs; a local path
also works), loads the first of model.xgb / model.json / model.ubj / model.bst found there
(as saved by mlflow.xgboost) and serves it on 127.0.0.1:PORT only (--host: another address, such as
0.0.0.0 in a container, whose port is then published on the host's loopback), REST only, one worker.
If the model cannot be fetched or loaded it prints one line naming the storage URI on
stderr and exits 1.

S3 settings: kserve_storage reads only AWS_ENDPOINT_URL, which it passes to boto3 as
endpoint_url, so it must be a full URL (http://127.0.0.1:PORT). S3_ENDPOINT and
S3_USE_HTTPS are KServe controller settings that kserve_storage never reads; the
controller turns them into AWS_ENDPOINT_URL = ("http://" if S3_USE_HTTPS == "0" else
"https://") + S3_ENDPOINT, and this server does the same when AWS_ENDPOINT_URL is unset or
is a bare host:port. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the
region from AWS_DEFAULT_REGION. kserve_storage has no path-style switch: its only
addressing env var, S3_USER_VIRTUAL_BUCKET=true, forces virtual-hosted style. Left unset,
botocore addresses a custom endpoint path-style (http://127.0.0.1:PORT/BUCKET/KEY).

Endpoints (NAME = --model-name):
    POST /v1/models/NAME:predict  {"instances": [[f0, ..., f5], ...]}
                                  -> {"predictions": [0, 1, ...]}
    POST /v2/models/NAME/infer    one FP32/FP64 input of shape [N, 6]
                                  -> one INT64 output "predict" of shape [N]
    GET  /v2/models/NAME/ready    200 once the model is loaded
The label is 1 when P(class 1) > 0.5, which is what XGBClassifier.predict (and so MLflow's
pyfunc) returns. Malformed input gets a 400 {"error": "..."} that names the problem.
SIGTERM stops the server within a few seconds.
"""

import argparse
import json
import os
import reprlib
import sys

import numpy as np
import xgboost as xgb
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
from kserve import model_server as kserve_model_server
from kserve.errors import InvalidInput
from kserve.protocol.rest.server import RESTServer
from kserve.utils.utils import generate_uuid
from kserve_storage import Storage, configure_logging as configure_storage_logging

MODEL_FILES = ("model.xgb", "model.json", "model.ubj", "model.bst")
bind_host = "127.0.0.1"
keep_alive_s = None
# Requests still running at SIGTERM get this long to finish (kserve's default is 30 s); the
# harness kills the process if it has not exited 10 s after SIGTERM.
GRACE_PERIOD_S = 5


class LoopbackRESTServer(RESTServer):
    """kserve's RESTServer with the uvicorn host set to bind_host (127.0.0.1 unless --host), and its
    keep-alive to --timeout-keep-alive when given.

    RESTServer hard-codes host="0.0.0.0" in its uvicorn.Config and neither RESTServer nor
    ModelServer has a host argument. uvicorn reads config.host only when it binds, so
    changing it after construction is enough.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config.host = bind_host
        # Set the same way, so it works on kserve versions whose ModelServer has no such argument.
        if keep_alive_s is not None:
            self.config.timeout_keep_alive = keep_alive_s


# ModelServer.start() looks RESTServer up in its own module (single-worker path).
kserve_model_server.RESTServer = LoopbackRESTServer


class XGBoostClassifier(Model):
    def __init__(self, name: str, storage_uri: str, model_dir: str):
        super().__init__(name)
        self.storage_uri = storage_uri
        self.model_dir = model_dir
        self.booster = None
        self.n_features = 0

    def load(self) -> bool:
        local_dir = Storage.download(self.storage_uri, out_dir=self.model_dir)
        path = next(
            (p for p in (os.path.join(local_dir, f) for f in MODEL_FILES) if os.path.exists(p)),
            None,
        )
        if path is None:
            raise RuntimeError(f"none of {', '.join(MODEL_FILES)} was downloaded")
        booster = xgb.Booster()
        booster.load_model(path)
        objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
        # The label rule below assumes that the model outputs P(class 1).
        if objective != "binary:logistic":
            raise RuntimeError(
                f"{os.path.basename(path)} has objective {objective}, expected binary:logistic"
            )
        self.booster = booster
        self.n_features = booster.num_features()
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None):
        if isinstance(payload, InferRequest):
            labels = self._classify(self._v2_features(payload))
            output = InferOutput(name="predict", shape=list(labels.shape), datatype="INT64")
            output.set_data_from_numpy(labels, binary_data=payload.use_binary_outputs)
            return InferResponse(
                response_id=payload.id or generate_uuid(),
                model_name=self.name,
                infer_outputs=[output],
                use_binary_outputs=payload.use_binary_outputs,
            )
        return {"predictions": self._classify(self._v1_features(payload)).tolist()}

    def _v1_features(self, payload) -> np.ndarray:
        if not isinstance(payload, dict) or "instances" not in payload:
            raise InvalidInput('the V1 request body must be a JSON object with an "instances" list')
        return self._check_rows(numeric_array(payload["instances"], '"instances"'), '"instances"')

    def _v2_features(self, request: InferRequest) -> np.ndarray:
        if len(request.inputs) != 1:
            raise InvalidInput(f"expected exactly 1 input tensor, got {len(request.inputs)}")
        tensor = request.inputs[0]
        what = f"input {tensor.name!r}"
        if tensor.datatype not in ("FP32", "FP64"):
            raise InvalidInput(f"{what} has datatype {tensor.datatype}, expected FP32 or FP64")
        # JSON tensor data: as_numpy() would silently parse numeric strings such as "1.5".
        if tensor.data is not None:
            numeric_array(tensor.data, what)
        try:
            features = tensor.as_numpy()
        except ValueError as exc:
            raise InvalidInput(f"{what}: data does not fit shape {tensor.shape}: {exc}") from exc
        return self._check_rows(features, what)

    def _check_rows(self, features: np.ndarray, what: str) -> np.ndarray:
        if features.ndim != 2 or features.shape[1] != self.n_features:
            raise InvalidInput(
                f"{what} must be rows of {self.n_features} features,"
                f" got shape {list(features.shape)}"
            )
        if features.shape[0] == 0:
            raise InvalidInput(f"{what} has no rows")
        return features

    def _classify(self, features: np.ndarray) -> np.ndarray:
        # For binary:logistic the booster outputs P(class 1) per row.
        return (self.booster.inplace_predict(features) > 0.5).astype(np.int64)


def numeric_array(data, what: str) -> np.ndarray:
    try:
        array = np.asarray(data)
    except ValueError as exc:  # ragged nesting
        raise InvalidInput(f"{what} is not a rectangular array of numbers") from exc
    # Strings, nulls and objects give a non-numeric dtype.
    if array.dtype.kind not in "iuf":
        raise InvalidInput(f"{what} contains non-numeric values: {reprlib.repr(data)}")
    return array


def s3_endpoint_from_env() -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("S3_ENDPOINT")
    if endpoint:
        if "://" not in endpoint:
            scheme = "http" if os.environ.get("S3_USE_HTTPS") == "0" else "https"
            endpoint = f"{scheme}://{endpoint}"
        os.environ["AWS_ENDPOINT_URL"] = endpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--storage-uri", required=True)
    parser.add_argument("--http-port", required=True, type=int)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    # uvicorn's idle keep-alive. Left unset, the installed kserve's own default applies: 65 s since
    # kserve#5448, uvicorn's 5 s before it (the cause of the intermittent sidecar 503s of kserve#5446).
    # MODEL_SERVER_KEEP_ALIVE_S is how a scenario sets it on a running stack (a restart with that variable).
    env_keep_alive = os.environ.get("MODEL_SERVER_KEEP_ALIVE_S")
    parser.add_argument(
        "--timeout-keep-alive", type=int, default=int(env_keep_alive) if env_keep_alive else None,
        help="seconds an idle connection is kept (default: MODEL_SERVER_KEEP_ALIVE_S, else kserve's own)",
    )
    args = parser.parse_args()
    global bind_host, keep_alive_s
    bind_host = args.host
    keep_alive_s = args.timeout_keep_alive

    s3_endpoint_from_env()
    server = ModelServer(
        http_port=args.http_port, workers=1, enable_grpc=False, grace_period=GRACE_PERIOD_S
    )
    # kserve_storage's logger has no handler until configured; its lines say what was fetched.
    configure_storage_logging()
    model = XGBoostClassifier(args.model_name, args.storage_uri, args.model_dir)
    try:
        model.load()
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        print(f"model_server: cannot load model from {args.storage_uri}: {reason}", file=sys.stderr)
        sys.exit(1)
    server.start([model])


if __name__ == "__main__":
    main()
