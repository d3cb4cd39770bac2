"""The release block end to end: a run measures and enforces k (and l) on what it writes, refuses an
impossible target with nothing committed, counts people rather than rows, and says so in the JSON report,
the manifest and the HTML page without a value of the data; `cnpii risk` measures any dataset."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline import api
from pipeline.cli import main
from pipeline.policy import PolicyError, load_policy
from pipeline.sample_data import generate
from pipeline.storage import is_complete, read_manifest

KEY = "release-test-key-" + "0123456789abcdef" * 3
QUASI = ["id_number", "birth_date", "gender"]


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("CNPII_KEY", KEY)


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("release")
    generate(folder, rows=6000, seed=11, files_per_table=3)
    return folder


def _policy(tmp_path: Path, release: dict, name: str = "policy.yaml", **rest) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"version": 1, **rest, "release": release}, allow_unicode=True),
                    encoding="utf-8")
    return str(path)


def _last_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_release_keys_are_strict(tmp_path):
    for bad, where in [
        ({"quasi_identifiers": ["a"], "k_anonymity": 5, "k_anonimity": 3}, "release.k_anonimity"),
        ({"quasi_identifiers": ["a"], "k_anonymity": 0}, "release.k_anonymity"),
        ({"quasi_identifiers": [], "k_anonymity": 2}, "release.quasi_identifiers"),
        ({"quasi_identifiers": "some", "k_anonymity": 2}, "release.quasi_identifiers"),
        ({"quasi_identifiers": ["a"], "k_anonymity": 2, "max_suppressed": 1.5}, "release.max_suppressed"),
        ({"quasi_identifiers": ["a", "s"], "k_anonymity": 2, "l_diversity": {"sensitive": "s", "l": 2}},
         "release"),
        ({"quasi_identifiers": ["a"], "k_anonymity": 2, "l_diversity": {"sensitive": "s", "ll": 2}},
         "release.l_diversity"),
        ({"quasi_identifiers": ["a"], "k_anonymity": True}, "release.k_anonymity"),
        ({"quasi_identifiers": ["a"], "k_anonymity": "5"}, "release.k_anonymity"),
        ({"quasi_identifiers": ["a"], "k_anonymity": 5, "max_suppressed": True}, "release.max_suppressed"),
        ({"quasi_identifiers": ["a"], "k_anonymity": 5, "l_diversity": {"sensitive": "s", "l": True}},
         "release.l_diversity.l"),
    ]:
        with pytest.raises(PolicyError, match=where):
            load_policy(_policy(tmp_path, bad))
    good = load_policy(_policy(tmp_path, {"quasi_identifiers": "auto", "k_anonymity": 2}))
    assert good.release is not None and good.release.max_suppressed == 0.0


def test_a_run_enforces_k_on_what_it_writes(tables, tmp_path):
    release = {"person": "id_number", "quasi_identifiers": QUASI, "k_anonymity": 5, "max_suppressed": 0.1}
    policy = _policy(tmp_path, release)
    output = tmp_path / "out"
    summary = api.run(str(tables / "customers"), str(output), policy, report=tmp_path / "run.json")
    assert summary.status == "ok", summary
    assert summary.risk is not None and summary.risk["passed"] and summary.risk["k"] >= 5
    manifest = read_manifest(str(output))
    report = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert manifest["release"] == report["release"]
    section = manifest["release"]
    assert section["counted"] == "people" and section["person_digest"] == "keyed"
    assert section["before"]["k"] < 5 <= section["measured"]["k"]  # the policy alone left small classes
    assert section["suppressed"]["share"] <= 0.1
    # measured independently on the output: rows per class are at least people per class; verify
    # counts rows too (the masked person column cannot tell people apart) and agrees
    assert api.verify(str(output), policy).status == "ok"
    independent = api.risk(str(output), QUASI, k=5)
    assert independent.status == "ok" and independent.figures.k >= 5
    written = pq.read_table(output, columns=QUASI)
    climbed = [c for c in QUASI if section["node"][c] != "as released"]
    assert climbed and all(pa.types.is_string(written.schema.field(c).type) for c in climbed)
    # suppressed rows lost every quasi-identifier, and only those rows (plus nulls of the input) did
    source = pq.read_table(tables / "customers", columns=QUASI)
    def all_null(table: pa.Table) -> int:
        nulls = [pc.is_null(table.column(c)) for c in QUASI]
        return pc.sum(pc.and_(pc.and_(nulls[0], nulls[1]), nulls[2]).cast("int64")).as_py()

    assert all_null(written) - all_null(source) == section["suppressed"]["rows"]


def test_the_release_section_holds_no_value_of_the_data(tables, tmp_path):
    release = {"person": "id_number", "quasi_identifiers": QUASI, "k_anonymity": 5, "max_suppressed": 0.1}
    output = tmp_path / "out"
    api.run(str(tables / "customers"), str(output), _policy(tmp_path, release), report=tmp_path / "run.html")
    page = (tmp_path / "run.html").read_text(encoding="utf-8")
    text = page + (output / "_MANIFEST.json").read_text(encoding="utf-8")
    source = pq.read_table(tables / "customers", columns=["id_number", "birth_date", "name"])
    values = {str(v) for c in source.columns for v in c.to_pylist() if v is not None}
    assert "<svg" in page and "k-anonymity" in page
    assert not [v for v in values if v in text]


def test_an_impossible_target_commits_nothing_and_says_what_it_would_take(tables, tmp_path, capsys):
    output = tmp_path / "out"
    assert api.run(str(tables / "customers"), str(output), None).status == "ok"
    release = {"person": "id_number", "quasi_identifiers": [*QUASI, "mobile", "bank_card"],
               "k_anonymity": 50, "max_suppressed": 0.01}
    code = main(["run", str(tables / "customers"), str(output), "--config", _policy(tmp_path, release),
                 "--mode", "overwrite", "--report", str(tmp_path / "refused.json")])
    assert code == 1
    summary = _last_json(capsys)
    assert summary["status"] == "risk" and not summary["risk"]["passed"]
    assert is_complete(str(output))  # the previous good output is untouched
    assert read_manifest(str(output))["policy_digest"] == load_policy(None).digest
    assert not (output / "_staging").exists()
    refused = json.loads((tmp_path / "refused.json").read_text(encoding="utf-8"))["release"]
    assert refused["measured"] is None and "max_suppressed" in refused["detail"]
    assert refused["suppressed"]["share"] > 0.01
    advised = float(re.search(r"raise max_suppressed to at least ([0-9.]+)", refused["detail"]).group(1))
    assert advised >= refused["suppressed"]["share"]  # rounded up, never down


def test_people_not_rows_decide(tmp_path):
    # 12 loans of 3 borrowers in one apply month: 12 rows, 3 people
    ids = ["11010519491231002X", "44030519900101123X", "110101199003077777"]
    table = pa.table({
        "borrower": [ids[i % 3] for i in range(12)],
        "apply_month": ["2024-03"] * 12,
        "status": ["正常", "逾期"] * 6,
    })
    data = tmp_path / "loans"
    data.mkdir()
    pq.write_table(table, data / "part-0.parquet")
    by_rows = api.risk(str(data), ["apply_month"], k=5)
    by_people = api.risk(str(data), ["apply_month"], person="borrower", k=5)
    assert (by_rows.figures.k, by_rows.status) == (12, "ok")
    assert (by_people.figures.k, by_people.status) == (3, "risk")
    release = {"person": "borrower", "quasi_identifiers": ["apply_month"], "k_anonymity": 5}
    run = api.run(str(data), str(tmp_path / "out"), _policy(tmp_path, release))
    assert run.status == "risk" and not (tmp_path / "out").exists()
    rows_only = {"quasi_identifiers": ["apply_month"], "k_anonymity": 5}
    rows_policy = _policy(tmp_path, rows_only, "rows.yaml")
    assert api.run(str(data), str(tmp_path / "out2"), rows_policy).status == "ok"


def test_l_diversity_on_loans(tables, tmp_path):
    release = {"person": "borrower_id_number", "quasi_identifiers": ["borrower_id_number", "apply_date"],
               "k_anonymity": 3, "l_diversity": {"sensitive": "status", "l": 2}, "max_suppressed": 0.05}
    output = tmp_path / "out"
    summary = api.run(str(tables / "loans"), str(output), _policy(tmp_path, release))
    assert summary.status == "ok", summary
    measured = read_manifest(str(output))["release"]["measured"]
    assert measured["l"] >= 2 and measured["k"] >= 3
    check = api.risk(str(output), ["borrower_id_number", "apply_date"], sensitive="status", k=3, l=2)
    assert check.status == "ok" and check.figures.l >= 2


def test_verify_and_scan_measure_the_release(tables, tmp_path):
    release = {"quasi_identifiers": ["birth_date", "gender"], "k_anonymity": 5, "max_suppressed": 0.02}
    policy = _policy(tmp_path, release)
    output = tmp_path / "out"
    assert api.run(str(tables / "customers"), str(output), policy).status == "ok"
    verified = api.verify(str(output), policy)
    assert verified.status == "ok" and verified.risk["k"] >= 5
    scanned = api.scan(str(tables / "customers"), policy, report=tmp_path / "scan.json")
    assert scanned.risk is not None and scanned.risk["k"] < 5  # the input's full birth dates
    strict = _policy(tmp_path, {**release, "k_anonymity": 10_000}, "strict.yaml")
    assert api.verify(str(output), strict).status == "risk"


def test_risk_command_prints_the_figures_and_exits_by_target(tables, capsys):
    customers = str(tables / "customers")
    assert main(["risk", customers, "--quasi-identifiers", "gender", "--k", "2"]) == 0
    line = _last_json(capsys)
    for key in ("k", "classes", "uniques", "records_at_risk", "max_risk", "avg_risk"):
        assert key in line
    assert line["k"] >= 2 and line["classes"] == 2
    assert main(["risk", customers, "--quasi-identifiers", "birth_date,gender,city", "--k", "5"]) == 1
    line = _last_json(capsys)
    assert line["k"] == 1 and line["uniques"] > 0 and line["max_risk"] == 1.0
    assert main(["risk", customers, "--quasi-identifiers", "gender", "--person", "id_number",
                 "--sensitive", "city", "--l", "3"]) == 0
    assert _last_json(capsys)["l"] >= 3
    assert main(["risk", customers, "--quasi-identifiers", "nope"]) == 2
    assert main(["risk", customers, "--quasi-identifiers", "gender", "--k", "0"]) == 2
    assert main(["risk", customers, "--quasi-identifiers", "gender", "--l", "2"]) == 2


def test_a_missing_release_column_is_refused_before_work(tables, tmp_path):
    for release, where in [({"quasi_identifiers": ["nope"], "k_anonymity": 2}, "quasi_identifiers"),
                           ({"person": "nope", "quasi_identifiers": ["gender"], "k_anonymity": 2}, "person"),
                           ({"quasi_identifiers": ["name"], "k_anonymity": 2}, "redacted"),
                           ({"quasi_identifiers": ["gender"], "k_anonymity": 2,
                             "l_diversity": {"sensitive": "name", "l": 2}}, "l_diversity.sensitive")]:
        policy = _policy(tmp_path, release, columns={"name": {"action": "redact"}})
        with pytest.raises(PolicyError, match=where):
            api.run(str(tables / "customers"), str(tmp_path / "out"), policy)
        assert not (tmp_path / "out").exists()


def test_auto_chooses_generalized_and_date_like_columns(tables, tmp_path):
    policy = _policy(tmp_path, {"quasi_identifiers": "auto", "k_anonymity": 2, "max_suppressed": 0.05},
                     columns={"id_number": {"entity": "CN_RESIDENT_ID", "action": "generalize",
                                            "to": "province"}})
    summary = api.run(str(tables / "customers"), str(tmp_path / "out"), policy)
    chosen = read_manifest(str(tmp_path / "out"))["release"]["quasi_identifiers"]
    assert summary.status == "ok"
    assert {"id_number", "birth_date", "gender", "created_at"} <= set(chosen)
    assert "name" not in chosen and "remark" not in chosen


def test_a_kept_phone_column_still_climbs_its_ladder(tables, tmp_path):
    release = {"quasi_identifiers": ["mobile", "gender"], "k_anonymity": 5, "max_suppressed": 0.05}
    policy = _policy(tmp_path, release, columns={"mobile": "keep"})
    summary = api.run(str(tables / "customers"), str(tmp_path / "out"), policy)
    section = read_manifest(str(tmp_path / "out"))["release"]
    assert summary.status == "ok"
    assert section["ladders"]["mobile"] == ["as released", "city", "province"]
    assert section["node"]["mobile"] in ("city", "province")  # whole numbers are unique: they must go
    mobiles = pq.read_table(tmp_path / "out", columns=["mobile"]).column("mobile").drop_null().to_pylist()
    assert mobiles and not [m for m in mobiles if any(ch.isdigit() for ch in m)]


def test_written_classes_that_differ_from_the_plan_fail_the_run(tables, tmp_path, monkeypatch):
    """The transform counts the tuples it writes; if they are not the planned ones (here: suppression
    skipped), nothing is committed."""
    from pipeline.release import ReleaseStep

    apply = ReleaseStep.apply

    def without_suppression(self, batch, table):
        return apply(dataclasses.replace(self, suppressed=self.suppressed.slice(0, 0)), batch, table)

    monkeypatch.setattr(ReleaseStep, "apply", without_suppression)
    release = {"person": "id_number", "quasi_identifiers": QUASI, "k_anonymity": 5, "max_suppressed": 0.1}
    summary = api.run(str(tables / "customers"), str(tmp_path / "out"), _policy(tmp_path, release),
                      report=tmp_path / "run.json")
    assert summary.status == "risk" and not (tmp_path / "out" / "_SUCCESS").exists()
    detail = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))["release"]["detail"]
    assert "differ from the planned" in detail


def _table_dataset(tmp_path: Path, *tables: pa.Table) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for number, table in enumerate(tables):
        pq.write_table(table, folder / f"part-{number}.parquet")
    return folder


def test_a_row_missing_one_quasi_identifier_is_still_protected(tmp_path):
    """A blank gender left a row out of every class, so it was released unique on birth year and city."""
    table = pa.table({"gender": ["男"] * 20 + [None], "born": ["1990"] * 20 + ["1921"],
                      "city": ["深圳市"] * 20 + ["拉萨市"]})
    data = _table_dataset(tmp_path, table)
    release = {"quasi_identifiers": ["gender", "born", "city"], "k_anonymity": 5, "max_suppressed": 0.05}
    summary = api.run(str(data), str(tmp_path / "out"), _policy(tmp_path, release))
    assert summary.status == "ok" and summary.risk["suppressed_rows"] == 1
    last = pq.read_table(tmp_path / "out").slice(20).to_pylist()[0]
    assert last == {"gender": None, "born": None, "city": None}


def test_values_holding_any_character_suppress_only_their_class(tmp_path):
    """Tuples were matched as joined strings: ('x\\x1fy', 'z') and ('x', 'y\\x1fz') looked alike."""
    table = pa.table({"a": ["x\x1fy"] + ["x"] * 10, "b": ["z"] + ["y\x1fz"] * 10})
    data = _table_dataset(tmp_path, table)
    release = {"quasi_identifiers": ["a", "b"], "k_anonymity": 2, "max_suppressed": 0.1}
    summary = api.run(str(data), str(tmp_path / "out"), _policy(tmp_path, release))
    written = pq.read_table(tmp_path / "out")
    assert summary.status == "ok" and written.column("a").null_count == 1
    assert written.column("a").to_pylist()[1:] == ["x"] * 10


def test_a_lattice_too_large_is_refused_before_work(tmp_path):
    dates = {f"d{i}": pa.array([dt.date(1990, 1, 1)] * 3) for i in range(7)}  # 4 rungs each: 16,384 nodes
    data = _table_dataset(tmp_path, pa.table(dates))
    release = {"quasi_identifiers": list(dates), "k_anonymity": 2}
    with pytest.raises(PolicyError, match=r"quasi_identifiers: their generalization lattice has 16,384"):
        api.run(str(data), str(tmp_path / "out"), _policy(tmp_path, release))
    assert not (tmp_path / "out").exists()


def test_auto_reads_dictionary_and_large_text_and_more_than_the_first_file(tmp_path):
    empty = pa.table({"gender": pa.nulls(40, pa.string()), "city": pa.nulls(40, pa.string()),
                      "note": ["无"] * 40})
    genders = pa.array(["男", "女"] * 20).dictionary_encode()
    filled = pa.table({"gender": genders, "city": pa.array(["深圳市", "杭州市"] * 20, pa.large_string()),
                       "note": ["无"] * 40})
    data = _table_dataset(tmp_path, empty, filled.cast(empty.schema))
    data2 = tmp_path / "data2"
    data2.mkdir()
    pq.write_table(empty.cast(filled.schema), data2 / "part-0.parquet")
    pq.write_table(filled, data2 / "part-1.parquet")
    release = {"quasi_identifiers": "auto", "k_anonymity": 2}
    for folder, out in ((data, "out"), (data2, "out2")):
        assert api.run(str(folder), str(tmp_path / out), _policy(tmp_path, release)).status == "ok"
        assert read_manifest(str(tmp_path / out))["release"]["quasi_identifiers"] == ["gender", "city"]


def test_auto_on_files_without_rows_is_no_crash(tmp_path):
    """`auto` sampled nothing and looked up columns in an empty table (exit 3)."""
    empty = pa.table({"born": pa.array([], pa.date32()), "gender": pa.array([], pa.string())})
    data = _table_dataset(tmp_path, empty, empty)
    summary = api.run(str(data), str(tmp_path / "out"), _policy(tmp_path, {"quasi_identifiers": "auto",
                                                                          "k_anonymity": 2}))
    assert summary.status == "ok" and summary.rows == 0
