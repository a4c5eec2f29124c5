"""A long-lived MLflow client driven over stdin/stdout, one JSON object per line.

    python mlflow_client.py            (MLFLOW_TRACKING_URI and MLFLOW_HTTP_REQUEST_* from the env)

Request:  {"id": 1, "op": "log_param", "args": {...}}
Response: {"id": 1, "ok": true, "result": {...}, "ms": 12.3}
      or  {"id": 1, "ok": false, "error": {"type", "message", "status", "error_code"}, "ms": ...}

The real MlflowClient does the work, with its own retries and timeouts, because those are
part of what users live with. Runs under MLflow 3 and MLflow 2 alike (version-skew scenarios).
"""
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException, RestException

client = MlflowClient()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def op_version(_):
    return {"mlflow": mlflow.__version__}


def op_start_run(a):
    exp = client.get_experiment_by_name(a["experiment"])
    exp_id = exp.experiment_id if exp else client.create_experiment(a["experiment"])
    run = client.create_run(exp_id, run_name=a.get("run_name"))
    return {"run_id": run.info.run_id, "experiment_id": exp_id, "artifact_uri": run.info.artifact_uri}


def op_log_param(a):
    client.log_param(a["run_id"], a["key"], a["value"])
    return {}


def op_log_metric(a):
    client.log_metric(a["run_id"], a["key"], float(a["value"]), step=int(a.get("step", 0)))
    return {}


def op_log_metric_async(a):
    # synchronous=False only queues the write and returns a future: this "ack" is all the
    # training code sees (HF transformers logs this way so MLflow outages cannot stop training).
    client.log_metric(a["run_id"], a["key"], float(a["value"]), step=int(a.get("step", 0)), synchronous=False)
    return {}


def op_flush(_):
    mlflow.flush_async_logging()
    return {}


def op_log_batch(a):
    params = [Param(k, str(v)) for k, v in a.get("params", {}).items()]
    now = int(time.time() * 1000)
    metrics = [Metric(m["key"], float(m["value"]), now, int(m.get("step", 0))) for m in a.get("metrics", [])]
    client.log_batch(a["run_id"], params=params, metrics=metrics)
    return {}


def op_log_artifact(a):
    client.log_artifact(a["run_id"], a["path"], artifact_path=a.get("artifact_path"))
    return {"sha256": sha256_file(a["path"]), "size": os.path.getsize(a["path"])}


def op_download_artifact(a):
    os.makedirs(a["dst"], exist_ok=True)  # MLflow 2.x refuses a destination that does not exist
    if a.get("artifact_uri"):
        # By the run's artifact URI, as a pipeline's next stage that was handed it reads: only the
        # artifact store is in the path. By run id, the client first asks the tracking server
        # (and so the database) where the run's artifacts are.
        local = mlflow.artifacts.download_artifacts(artifact_uri=f'{a["artifact_uri"]}/{a["artifact_path"]}', dst_path=a["dst"])
    else:
        local = client.download_artifacts(a["run_id"], a["artifact_path"], dst_path=a["dst"])
    return {"path": local, "sha256": sha256_file(local), "size": os.path.getsize(local)}


def op_artifact_digests(a):
    """sha256 of each of a run's `paths` that its directory listing holds; null for the others.

    The ledger's read-back after recovery: one listing per directory, listings and downloads side by
    side, where a download each (which lists again to tell a file from a directory) took about
    0.5 s per artifact, seconds per experiment.
    """
    run_id, paths = a["run_id"], a["paths"]

    def listing(d):
        try:
            return [f.path for f in client.list_artifacts(run_id, d or None)]
        except MlflowException:
            return []  # a run or directory that is gone: its files are not there

    def digest(i_path):
        i, path = i_path
        dst = os.path.join(a["dst"], str(i))
        os.makedirs(dst, exist_ok=True)
        try:
            return sha256_file(client.download_artifacts(run_id, path, dst_path=dst))
        except MlflowException:
            return None  # listed but not readable: not there for whoever reads it back

    with ThreadPoolExecutor(max_workers=8) as pool:
        listed = {f for files in pool.map(listing, sorted({p.rpartition("/")[0] for p in paths})) for f in files}
        present = [(i, p) for i, p in enumerate(paths) if p in listed]
        digests = dict(zip((p for _, p in present), pool.map(digest, present)))
    return {"sha256": {p: digests.get(p) for p in paths}}


def op_get_run(a):
    run = client.get_run(a["run_id"])
    return {
        "status": run.info.status,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "artifact_uri": run.info.artifact_uri,
    }


def op_metric_history(a):
    return {"history": [{"step": m.step, "value": m.value} for m in client.get_metric_history(a["run_id"], a["key"])]}


def op_end_run(a):
    client.set_terminated(a["run_id"], status=a.get("status", "FINISHED"))
    return {}


def op_register(a):
    try:
        client.create_registered_model(a["name"])
    except MlflowException as e:
        if e.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    mv = client.create_model_version(a["name"], a["source"], run_id=a.get("run_id"))
    return {"version": str(mv.version), "status": mv.status, "source": mv.source}


def op_set_alias(a):
    client.set_registered_model_alias(a["name"], a["alias"], a["version"])
    return {}


def op_get_version(a):
    mv = client.get_model_version(a["name"], str(a["version"]))
    return {"version": str(mv.version), "source": mv.source, "status": mv.status, "run_id": mv.run_id}


def op_get_alias(a):
    mv = client.get_model_version_by_alias(a["name"], a["alias"])
    return {"version": str(mv.version), "source": mv.source, "status": mv.status, "run_id": mv.run_id}


def op_find_versions(a):
    versions = client.search_model_versions(f"name='{a['name']}' and run_id='{a['run_id']}'")
    return {"versions": [{"version": str(v.version), "source": v.source} for v in versions]}


OPS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}


def describe(exc):
    err = {"type": type(exc).__name__, "message": str(exc)[:2000], "status": None, "error_code": None}
    if isinstance(exc, MlflowException):
        err["error_code"] = exc.error_code
    # Only a RestException carries a status the server really sent; a failed connection is
    # an MlflowException too, but its "status" would be made up.
    if isinstance(exc, RestException):
        err["status"] = exc.get_http_status_code()
    return err


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        started = time.monotonic()
        try:
            fn = OPS.get(req["op"])
            if fn is None:
                raise ValueError(f"unknown op {req['op']!r}; allowed: {sorted(OPS)}")
            resp = {"id": req["id"], "ok": True, "result": fn(req.get("args", {}))}
        except Exception as exc:  # every failure is reported to the harness as an event, never swallowed
            resp = {"id": req["id"], "ok": False, "error": describe(exc)}
        resp["ms"] = round((time.monotonic() - started) * 1000, 1)
        sys.stdout.write(json.dumps(resp) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
