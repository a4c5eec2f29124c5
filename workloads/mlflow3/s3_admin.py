"""S3 administration and inspection for the harness, with boto3 against the stack's SeaweedFS.

    python s3_admin.py create-buckets B1 B2 ...   -> {"created": [...]}
    python s3_admin.py head BUCKET KEY             -> {"exists": bool, "size": n, "sha256": hex|null}
    python s3_admin.py list BUCKET [PREFIX]        -> {"keys": [{"key", "size"}]}
    python s3_admin.py put BUCKET KEY FILE         -> {"sha256": hex}
    python s3_admin.py put-filler BUCKET KEY MB    -> {"put": key, "sizeMB": n}   (random bytes)
    python s3_admin.py delete BUCKET KEY           -> {"deleted": key}

Endpoint and keys come from S3_ADMIN_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY. The
harness talks to SeaweedFS directly (not through an edge), so faults never disturb its checks.
Exit 0 with JSON on stdout; exit 1 with {"error": ...} on failure.
"""
import hashlib
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def s3():
    return boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ADMIN_ENDPOINT"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, connect_timeout=3, read_timeout=20, retries={"max_attempts": 1}),
    )


def create_buckets(*buckets):
    c = s3()
    existing = {b["Name"] for b in c.list_buckets().get("Buckets", [])}
    created = []
    for b in buckets:
        if b not in existing:
            c.create_bucket(Bucket=b)
            created.append(b)
    return {"created": created}


def head(bucket, key):
    c = s3()
    try:
        obj = c.get_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return {"exists": False, "size": 0, "sha256": None}
        raise
    body = obj["Body"].read()
    return {"exists": True, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def list_keys(bucket, prefix=""):
    c = s3()
    keys = []
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [{"key": o["Key"], "size": o["Size"]} for o in page.get("Contents", [])]
    return {"keys": keys}


def put(bucket, key, path):
    with open(path, "rb") as fh:
        data = fh.read()
    s3().put_object(Bucket=bucket, Key=key, Body=data)
    return {"sha256": hashlib.sha256(data).hexdigest()}


def delete(bucket, key):
    s3().delete_object(Bucket=bucket, Key=key)
    return {"deleted": key}


def put_filler(bucket, key, size_mb):
    s3().put_object(Bucket=bucket, Key=key, Body=os.urandom(int(size_mb) * 1024 * 1024))
    return {"put": key, "sizeMB": int(size_mb)}


COMMANDS = {"create-buckets": create_buckets, "head": head, "list": list_keys, "put": put, "put-filler": put_filler, "delete": delete}

if __name__ == "__main__":
    try:
        cmd = COMMANDS[sys.argv[1]]
        print(json.dumps(cmd(*sys.argv[2:])))
    except Exception as exc:  # reported to the harness, which decides
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        sys.exit(1)
