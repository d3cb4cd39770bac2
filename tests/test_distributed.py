"""`run` on a real dask.distributed cluster: a scheduler and workers started as separate processes on
loopback, the key in the workers' environment only. The output equals a local run's, also when a worker
is killed mid-run; the key is not in the task graph; lookup tables are built once per worker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cloudpickle
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from distributed import Client

from pipeline import api, execution
from pipeline.keys import Keyring
from pipeline.sample_data import generate
from pipeline.storage import STAGING, is_complete, read_manifest

ROOT = Path(__file__).parent.parent
CUSTOMERS = str(ROOT / "sample_data" / "customers")
VENDOR = str(ROOT / "configs" / "analytics_vendor.yaml")
KEY = "distributed-test-key-" + "0123456789abcdef" * 3
ENTITIES = ("CN_RESIDENT_ID", "CN_PHONE", "CN_BANK_CARD")
STARTUP_SECONDS = 120


class Cluster:
    """A scheduler and workers, each its own process; workers are started and killed by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.workers: dict[str, subprocess.Popen] = {}
        environment = {k: v for k, v in os.environ.items() if k != "CNPII_KEY"}  # the scheduler needs none
        self.scheduler = self._start(
            "scheduler",
            ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
            environment,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.scheduler_file.exists():
            assert self.scheduler.poll() is None, self._log("scheduler")
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.1)
        self.address = json.loads(self.scheduler_file.read_text())["address"]

    def _start(self, name: str, arguments: list[str], environment: dict[str, str]) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        command = [sys.executable, "-m", *arguments, "--scheduler-file", str(self.scheduler_file)]
        return subprocess.Popen(command, env=environment, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def _log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def start_worker(self, name: str) -> None:
        """One single-threaded worker process without a nanny (so a killed worker stays dead), with the
        key in its environment: that is the only way the key reaches it."""
        self.workers[name] = self._start(
            name,
            ["distributed.cli.dask_worker", "--host", "127.0.0.1", "--name", name, "--nworkers", "1",
             "--nthreads", "1", "--memory-limit", "1GB", "--no-nanny", "--no-dashboard",
             "--local-directory", str(self.folder / name)],
            {**os.environ, "CNPII_KEY": KEY},
        )

    def kill(self, name: str) -> None:
        process = self.workers.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        processes = [*self.workers.values(), self.scheduler]
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        for name in ("worker-a", "worker-b"):
            cluster.start_worker(name)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def client(cluster) -> Iterator[Client]:
    with Client(cluster.address, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=STARTUP_SECONDS)
        yield client


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    """The driver needs the key too: it refuses a run whose key is missing before any work."""
    monkeypatch.setenv("CNPII_KEY", KEY)


def _tables(output: Path) -> dict[str, pa.Table]:
    return {o["relative_path"]: pq.read_table(output / o["relative_path"])
            for o in read_manifest(str(output))["outputs"]}


def _assert_same_output(output: Path, expected: Path) -> None:
    tables, reference = _tables(output), _tables(expected)
    assert tables.keys() == reference.keys()
    for name, table in reference.items():
        assert tables[name].equals(table), name


@pytest.fixture(scope="module")
def local_customers(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("local") / "customers"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNPII_KEY", KEY)
        assert api.run(CUSTOMERS, str(output), VENDOR).status == "ok"
    return output


def test_a_run_on_the_cluster_equals_a_local_run(client, cluster, local_customers, tmp_path):
    summary = api.run(CUSTOMERS, str(tmp_path / "out"), VENDOR, scheduler=cluster.address)
    assert (summary.status, summary.files) == ("ok", 2)
    assert is_complete(str(tmp_path / "out"))
    _assert_same_output(tmp_path / "out", local_customers)


def test_the_key_is_not_in_the_task_graph(client, cluster, tmp_path, task_graphs):
    graphs = task_graphs
    assert api.run(CUSTOMERS, str(tmp_path / "out"), VENDOR, scheduler=cluster.address).status == "ok"
    keyring = Keyring.load()
    secrets = [KEY.encode(), *(keyring.subkey(f"tokenize/hmac/{entity}") for entity in ENTITIES)]
    assert len(graphs) >= 3  # probe, transform, verify
    assert any(b"CNPII_KEY" in graph for graph in graphs)  # the keyring is there, as its source
    assert not [s for graph in graphs for s in secrets if s in graph]


def test_tables_and_keys_are_built_once_per_worker(client, cluster, tmp_path):
    for number in range(2):
        api.run(CUSTOMERS, str(tmp_path / f"out{number}"), VENDOR, scheduler=cluster.address)

    def cache_use() -> dict[str, tuple[int, int] | int]:
        from pipeline.actions import tokenize
        from pipeline.keys import _load_cached
        from recognizers import bank_card, divisions, segments

        cached = {"keyring": _load_cached, "HMAC keys": tokenize._mac}
        tables = {"phone segments": segments._tables, "card BINs": bank_card.bins,
                  "division names": divisions._latest_names}
        return {**{name: (f.cache_info().hits, f.cache_info().misses) for name, f in cached.items()},
                **{name: f.builds() for name, f in tables.items()}}

    use = client.run(cache_use)
    assert len(use) == 2
    for worker in use.values():
        hmac_keys = worker.pop("HMAC keys")
        assert 1 <= hmac_keys[1] <= len(ENTITIES), worker  # one per entity tokenized, not one per task
        hits, misses = worker.pop("keyring")
        assert misses == 1 and hits > 0, worker
        assert set(worker.values()) == {1}, worker  # each table built once, and used


@pytest.fixture(scope="module")
def larger_customers(tmp_path_factory) -> tuple[Path, Path]:
    """Customers in files large enough that a task runs for a few seconds, and their local run."""
    folder = tmp_path_factory.mktemp("larger")
    generate(folder / "data", rows=60_000, seed=7, files_per_table=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNPII_KEY", KEY)
        assert api.run(str(folder / "data" / "customers"), str(folder / "local"), VENDOR).status == "ok"
    return folder / "data" / "customers", folder / "local"


def _worker_transforming(client: Client) -> str:
    """The name of a worker running a transform task (the first `process_file` tasks of a run)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if any(str(key).startswith("process_file") for key in keys):
                return client.scheduler_info()["workers"][address]["name"]
        time.sleep(0.05)
    raise AssertionError("no transform task started")


def test_a_worker_killed_mid_run_changes_nothing(client, cluster, larger_customers, tmp_path):
    data, local = larger_customers
    output = tmp_path / "out"
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["summary"] = api.run(str(data), str(output), VENDOR, scheduler=cluster.address)
        except BaseException as error:
            outcome["error"] = error

    driver = threading.Thread(target=run)
    driver.start()
    try:
        victim = _worker_transforming(client)
        cluster.kill(victim)
        cluster.start_worker(f"{victim}-replacement")
    finally:
        driver.join(timeout=600)
    assert not driver.is_alive()
    assert "error" not in outcome, outcome
    assert outcome["summary"].status == "ok"
    assert is_complete(str(output))
    _assert_same_output(output, local)
    assert not (output / STAGING).exists()
    assert victim not in {w["name"] for w in client.scheduler_info()["workers"].values()}  # it did die


def test_a_release_on_the_cluster_equals_a_local_run(client, cluster, larger_customers, tmp_path):
    """Class counts are gathered from the workers and summed: the node, the suppressed classes, the
    measured figures and the written files are those of a local run, people counted by keyed digests
    made on the workers."""
    data, _ = larger_customers
    policy = tmp_path / "release.yaml"
    release = {"person": "id_number", "quasi_identifiers": ["id_number", "birth_date", "gender"],
               "k_anonymity": 5, "l_diversity": {"sensitive": "city", "l": 2}, "max_suppressed": 0.05}
    policy.write_text(json.dumps({"version": 1, "release": release}), encoding="utf-8")
    local = api.run(str(data), str(tmp_path / "local"), str(policy))
    remote = api.run(str(data), str(tmp_path / "remote"), str(policy), scheduler=cluster.address)
    assert local.status == remote.status == "ok"
    sections = [read_manifest(str(tmp_path / name))["release"] for name in ("local", "remote")]
    assert sections[0]["person_digest"] == "keyed" and sections[0]["suppressed"]["rows"] > 0
    assert sections[0] == sections[1]
    _assert_same_output(tmp_path / "remote", tmp_path / "local")


def test_workers_with_another_key_than_the_driver_are_refused(client, cluster, tmp_path, monkeypatch):
    """Workers tokenizing with their own key while the manifest records the driver's fingerprint would
    break key rotation silently and detokenize later: such a run is refused."""
    from pipeline.keys import KeyMaterialError

    monkeypatch.setenv("CNPII_KEY", "another-driver-key-" + "fedcba9876543210" * 3)
    with pytest.raises(KeyMaterialError, match="2 of 2 files were de-identified with another key"):
        api.run(CUSTOMERS, str(tmp_path / "out"), VENDOR, scheduler=cluster.address)
    assert not (tmp_path / "out").exists()


CARD = "6222021234567890120"
"""Fails Luhn: reported in a card column, not bare in a memo."""


@pytest.fixture
def card_in_two_files(tmp_path) -> Path:
    source = tmp_path / "in"
    source.mkdir()
    for name, cards, memos in (("part-0.parquet", [CARD], ["首期"]),
                               ("part-1.parquet", [None], [f"备注 {CARD}"])):
        pq.write_table(pa.table({"bank_card": pa.array(cards, pa.string()), "memo": memos}), source / name)
    return source


def test_known_values_are_matched_on_the_cluster(client, cluster, card_in_two_files, tmp_path, monkeypatch):
    """A card reported in one file's card column is reported in another file's memo where the engine
    alone leaves it. The digests are keyed with the command's session secret, which goes to the workers
    straight from the driver: not in any task, so the scheduler never holds it."""
    source = card_in_two_files
    secrets: list[bytes] = []
    install = execution._install_secret
    monkeypatch.setattr(execution, "_install_secret",
                        lambda session, secret: (secrets.append(secret), install(session, secret)))
    graphs: list[bytes] = []
    compute = api.compute
    monkeypatch.setattr(api, "compute", lambda tasks, label, scheduler=None: (
        graphs.append(cloudpickle.dumps(list(tasks))), compute(tasks, label, scheduler))[1])
    summary = api.run(str(source), str(tmp_path / "out"), str(ROOT / "configs" / "default.yaml"),
                      scheduler=cluster.address)
    assert summary.status == "ok"
    memo = pq.read_table(tmp_path / "out" / "part-1.parquet").column("memo")[0].as_py()
    assert memo == "备注 622202*********0120"
    assert read_manifest(str(tmp_path / "out"))["known_values"] == {
        "matched": True, "numbers_reported_again": 1, "files_transformed_again": 1}
    assert len(secrets) == 1 and len(graphs) == 3  # transform, transform again, verify
    assert not [g for g in graphs if secrets[0] in g]
    held = client.run(lambda: sorted(execution._session_secrets.values()))
    assert held and not [s for worker in held.values() for s in worker]  # gone from every worker


def test_workers_out_of_direct_reach_run_without_known_values(client, cluster, card_in_two_files, tmp_path,
                                                              monkeypatch):
    """Behind a proxy that passes only the scheduler's port, the secret cannot reach the workers: the run
    goes on without known values and says so, rather than sending the secret through the scheduler."""
    from distributed import Client as Connected

    scatter = Connected.scatter

    def unreachable(self, data, *args, direct=None, **kwargs):
        if direct:
            raise OSError("no route to the workers")
        return scatter(self, data, *args, direct=direct, **kwargs)

    monkeypatch.setattr(Connected, "scatter", unreachable)
    summary = api.run(str(card_in_two_files), str(tmp_path / "out"), str(ROOT / "configs" / "default.yaml"),
                      scheduler=cluster.address)
    assert summary.status == "ok"
    memo = pq.read_table(tmp_path / "out" / "part-1.parquet").column("memo")[0].as_py()
    assert memo == f"备注 {CARD}"
    assert read_manifest(str(tmp_path / "out"))["known_values"]["matched"] is False
