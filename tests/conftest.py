"""Fixtures shared by test modules: a real S3 server (moto, on loopback) and fresh buckets on it."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import cloudpickle
import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the server binds it right after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on 127.0.0.1 and a free port, shared by the session's tests."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@dataclass(frozen=True)
class Bucket:
    """An empty bucket: its URL (`s3://name`) and the fsspec storage options that open it."""

    url: str
    options: dict[str, Any]


@pytest.fixture
def s3_bucket(s3_endpoint) -> Bucket:
    """A new, empty bucket on the moto server, so tests never see each other's objects."""
    name = f"cnpii-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=name)
    options = {"key": "testing", "secret": "testing",
               "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}}
    return Bucket(f"s3://{name}", options)


@pytest.fixture
def task_graphs(monkeypatch) -> list[bytes]:
    """Every task list the pipeline hands to Dask, pickled as Dask would ship it (to search for secrets)."""
    from pipeline import api

    graphs: list[bytes] = []
    compute = api.compute

    def pickling_compute(tasks, label, scheduler=None):
        graphs.append(cloudpickle.dumps(list(tasks)))
        return compute(tasks, label, scheduler)

    monkeypatch.setattr(api, "compute", pickling_compute)
    return graphs
