"""Tests for the synthetic sample exports: shape, determinism, and that the numbers are what they claim.

Check characters are recomputed here from the standards (GB 11643-1999 MOD 11-2, Luhn), not with the
generator's own helpers, so a bug there cannot hide itself.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from cardbin.bankbin import BANKBIN

from pipeline.sample_data import generate, main

ROWS = 1000
SEED = 11
FILES = 2

EXPECTED_SCHEMAS = {
    "customers": pa.schema(
        [
            ("customer_id", pa.int64()),
            ("name", pa.string()),
            ("id_number", pa.string()),
            ("mobile", pa.string()),
            ("bank_card", pa.string()),
            ("address", pa.string()),
            ("birth_date", pa.date32()),
            ("gender", pa.string()),
            ("city", pa.string()),
            ("created_at", pa.timestamp("ms")),
            ("credit_score", pa.int32()),
            ("remark", pa.string()),
        ]
    ),
    "loans": pa.schema(
        [
            ("loan_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("borrower_id_number", pa.int64()),
            ("amount", pa.decimal128(14, 2)),
            ("term_months", pa.int32()),
            ("apply_date", pa.date32()),
            ("status", pa.string()),
            ("contact_phone", pa.int64()),
            ("purpose", pa.string()),
        ]
    ),
    "transactions": pa.schema(
        [
            ("txn_id", pa.int64()),
            ("account_no", pa.string()),
            ("counterparty_card", pa.string()),
            ("amount", pa.decimal128(14, 2)),
            ("txn_time", pa.timestamp("ms")),
            ("channel", pa.string()),
            ("memo", pa.string()),
        ]
    ),
    "call_notes": pa.schema(
        [
            ("note_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("agent_id", pa.int64()),
            ("note", pa.string()),
            ("created_at", pa.timestamp("ms")),
        ]
    ),
    "contacts": pa.schema(
        [
            ("customer_id", pa.int64()),
            ("contact_name", pa.string()),
            ("relation", pa.string()),
            ("contact_phone", pa.string()),
            ("phone_int", pa.int64()),
        ]
    ),
}
EXPECTED_ROWS = {"customers": 1000, "loans": 600, "transactions": 3000, "call_notes": 400, "contacts": 2000}
MOBILE_SEGMENT = re.compile(r"^1(?:3\d|4[579]|5[0-35-9]|6[2567]|7[0-35-8]|8\d|9[0-35-9])\d{8}$")
FULLWIDTH_DIGIT = re.compile("[０-９]")


def id_check_char(body17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11]


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sample")
    assert generate(path, rows=ROWS, seed=SEED, files_per_table=FILES) == EXPECTED_ROWS
    return path


@pytest.fixture(scope="module")
def tables(out: Path) -> dict[str, pa.Table]:
    return {name: ds.dataset(out / name, format="parquet").to_table() for name in EXPECTED_SCHEMAS}


def column(tables: dict[str, pa.Table], table: str, name: str) -> list:
    return tables[table].column(name).to_pylist()


def test_every_table_has_its_files_schema_and_row_count(out: Path) -> None:
    for name, schema in EXPECTED_SCHEMAS.items():
        files = sorted((out / name).iterdir())
        assert [f.name for f in files] == [f"part-{k:05d}.parquet" for k in range(FILES)]
        for file in files:
            assert pq.read_schema(file) == schema, f"{file} schema drifted"
        assert sum(pq.read_metadata(f).num_rows for f in files) == EXPECTED_ROWS[name]


def test_same_seed_gives_the_same_bytes(out: Path, tmp_path: Path) -> None:
    generate(tmp_path, rows=ROWS, seed=SEED, files_per_table=FILES)
    for name in EXPECTED_SCHEMAS:
        for file in (out / name).iterdir():
            assert (tmp_path / name / file.name).read_bytes() == file.read_bytes(), f"{name}/{file.name}"


def test_different_seeds_give_different_data(tables: dict[str, pa.Table], tmp_path: Path) -> None:
    generate(tmp_path, rows=ROWS, seed=SEED + 1, files_per_table=FILES)
    for name, table in tables.items():
        other = ds.dataset(tmp_path / name, format="parquet").to_table()
        assert other.schema == table.schema
        assert not other.equals(table), name


def test_resident_ids_have_valid_check_chars_and_match_birth_date_and_gender(
    tables: dict[str, pa.Table],
) -> None:
    customers = tables["customers"].to_pylist()
    with_id = [row for row in customers if row["id_number"] is not None]
    current = [row for row in with_id if len(row["id_number"]) == 18]
    legacy = [row for row in with_id if len(row["id_number"]) == 15]
    assert len(current) + len(legacy) == len(with_id)
    for row in current:
        number = row["id_number"]
        assert number[-1].upper() == id_check_char(number[:17]), number
    for row in legacy:
        assert row["id_number"].isdigit()
    assert 0 < len(legacy) < 0.05 * len(with_id)
    assert any(row["id_number"].endswith("x") for row in current)
    assert any(row["id_number"].endswith("X") for row in current)

    for row in with_id:
        number = row["id_number"]
        born = number[6:14] if len(number) == 18 else "19" + number[6:12]
        if row["birth_date"] is not None:
            assert row["birth_date"] == datetime.datetime.strptime(born, "%Y%m%d").date()
        sequence = number[14:17] if len(number) == 18 else number[12:15]
        assert row["gender"] == ("男" if int(sequence) % 2 else "女")


def test_bank_cards_are_luhn_valid_on_chinese_bins(tables: dict[str, pa.Table]) -> None:
    cards = [
        digits_only(card)
        for table, name in [
            ("customers", "bank_card"),
            ("transactions", "account_no"),
            ("transactions", "counterparty_card"),
        ]
        for card in column(tables, table, name)
        if card is not None
    ]
    assert all(luhn_valid(card) for card in cards)
    assert all(card[:6] in BANKBIN for card in cards)
    lengths = [len(card) for card in cards]
    assert set(lengths) <= {16, 17, 18, 19}
    assert lengths.count(19) + lengths.count(16) > 0.9 * len(lengths)
    raw = [card for card in column(tables, "customers", "bank_card") if card is not None]
    assert any(re.fullmatch(r"\d{4}( \d{4}){3}( \d{1,3})?", card) for card in raw), "no grouped cards"


def test_mobiles_are_in_assigned_segments_and_mix_notations(tables: dict[str, pa.Table]) -> None:
    mobiles = [m for m in column(tables, "customers", "mobile") if m is not None]
    numbers = [re.sub(r"^(?:\(\+86\)|\+86)", "", m).replace(" ", "").replace("-", "") for m in mobiles]
    assert all(MOBILE_SEGMENT.match(n) for n in numbers)
    assert any(m.startswith("+86 ") for m in mobiles)
    assert any(re.fullmatch(r"\d{3}-\d{4}-\d{4}", m) for m in mobiles)
    assert any(re.fullmatch(r"\+86\d{11}", m) for m in mobiles)
    assert {n[:2] for n in numbers} >= {"16", "17", "19"}


def test_pii_sits_in_int64_columns(tables: dict[str, pa.Table]) -> None:
    ids = {row["customer_id"]: row["id_number"] for row in tables["customers"].to_pylist()}
    loans = tables["loans"].to_pylist()
    for loan in loans:
        source = ids[loan["customer_id"]]  # None where the customers export left the ID out
        if source is not None and source.upper().endswith("X"):
            assert loan["borrower_id_number"] is None
        elif source is not None:
            assert loan["borrower_id_number"] == int(source)
    phones = [str(p) for p in column(tables, "loans", "contact_phone") if p is not None]
    assert phones and all(MOBILE_SEGMENT.match(p.removeprefix("86")) for p in phones)
    assert any(len(p) == 13 and p.startswith("86") for p in phones)
    phone_ints = [str(p) for p in column(tables, "contacts", "phone_int") if p is not None]
    assert 0.2 * EXPECTED_ROWS["contacts"] < len(phone_ints) < 0.5 * EXPECTED_ROWS["contacts"]


def test_pii_columns_have_some_nulls(tables: dict[str, pa.Table]) -> None:
    for table, name in [
        ("customers", "id_number"),
        ("customers", "mobile"),
        ("customers", "bank_card"),
        ("customers", "address"),
        ("loans", "borrower_id_number"),
        ("loans", "contact_phone"),
        ("transactions", "counterparty_card"),
        ("contacts", "contact_phone"),
    ]:
        nulls = tables[table].column(name).null_count
        assert 0 < nulls < tables[table].num_rows / 2, f"{table}.{name}: {nulls} nulls"


def test_free_text_mixes_pii_with_look_alikes(tables: dict[str, pa.Table]) -> None:
    memos = [m for m in column(tables, "transactions", "memo") if m]
    notes = [n for n in column(tables, "call_notes", "note") if n]
    remarks = [r for r in column(tables, "customers", "remark") if r]
    with_long_digits = [m for m in memos if re.search(r"\d{11}", m)]
    assert 0 < len(with_long_digits) < 0.5 * len(memos)
    assert any(re.search(r"订单号20\d{17}", m) for m in memos)
    assert any(re.search(r"流水号1\d{12}\b", m) for m in memos)
    assert any(re.search(r"1\d{10}\.00元", m) for m in memos)
    assert any(FULLWIDTH_DIGIT.search(n) for n in notes)
    assert any("工号129" in n for n in notes)
    assert any("身份证" in n for n in notes)
    assert any(re.search(r"\d{11}", r) for r in remarks)
    assert sum(bool(re.search(r"\d{11}", r)) for r in remarks) < 0.3 * len(remarks)


def test_agent_numbers_are_not_mobiles(tables: dict[str, pa.Table]) -> None:
    agents = [str(a) for a in column(tables, "call_notes", "agent_id")]
    assert all(len(a) == 11 and a.startswith("129") for a in agents)


def test_contacts_include_landlines(tables: dict[str, pa.Table]) -> None:
    phones = [p for p in column(tables, "contacts", "contact_phone") if p is not None]
    assert any(re.fullmatch(r"0\d{2,3}-[2-8]\d{7}", p) for p in phones)
    assert any(re.fullmatch(r"\(0\d{2,3}\)[2-8]\d{7}", p) for p in phones)


def test_main_writes_the_requested_files_and_a_json_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path), "--rows", "20", "--seed", "3", "--files-per-table", "3"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["rows"]["customers"] == 20
    assert len(list((tmp_path / "loans").glob("*.parquet"))) == 3
    assert main([str(tmp_path), "--rows", "20", "--files-per-table", "1"]) == 0
    assert [f.name for f in (tmp_path / "loans").iterdir()] == ["part-00000.parquet"]


def test_rejects_empty_output(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path, rows=0)
    with pytest.raises(ValueError, match="at least"):
        generate(tmp_path, seed=-1)
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--files-per-table", "0"])
    assert exit_info.value.code == 2
