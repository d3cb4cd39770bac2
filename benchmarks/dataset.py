"""The benchmark datasets, generated at a chosen size and cached between runs.

Each is one table, so that `cnpii run` sees one dataset with one schema:

- customers: the customers table of `pipeline.sample_data` (resident ID, mobile, bank card, name,
  address, free-text remark, dates, scores), mostly one number per dedicated column;
- loan notes: loan-collection notes, free text holding 0-4 personal numbers each, and the borrower's
  contact list as JSON text (`loan_notes_dataset`): the PII-dense table, where the numbers sit in text;
- quasi-identifiers: birth date, gender, county and a loan status, for measuring re-identification risk.

Each is split into files of a fixed number of rows. Files, not the dataset, are the unit a cnpii task
holds in memory, so a fixed file size is what lets the memory check grow the dataset without growing a
task. A dataset is complete when its folder holds the READY marker, written last.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline import sample_data

TABLE = sample_data.CUSTOMERS
TABLE_NUMBER = sample_data.TABLES.index(TABLE) + 1  # the stream `generate` uses, so the data is the same
READY = "_BENCHMARK_READY.json"
CUSTOMERS_KIND = "customers"
NOTES_KIND = "loan notes"


@dataclass(frozen=True)
class DatasetInfo:
    """What the report says about a dataset: its size in rows, files, bytes and string cells."""

    path: Path
    rows: int
    files: int
    bytes_on_disk: int
    bytes_uncompressed: int
    bytes_in_memory: int  # as Arrow tables, estimated from the first file: what "larger than memory" means
    string_cells: int  # non-null cells of string columns: the cells a per-cell engine must look at
    kind: str = CUSTOMERS_KIND  # which table: a step is compared only with the floor of its own kind


def _folder(data_dir: Path, name: str, rows: int, rows_per_file: int, seed: int) -> tuple[Path, int, bool]:
    """Where a generated dataset lives, how many files it has, and whether it is complete (READY)."""
    files = max(2, math.ceil(rows / rows_per_file))
    folder = Path(data_dir) / f"{name}-{rows}-rows-{files}-files-seed{seed}"
    return folder, files, (folder / READY).exists()


def _mark_ready(folder: Path, rows: int, files: int, seed: int, **figures: int) -> Path:
    """Write the READY marker last, with what the dataset holds; return the folder."""
    (folder / READY).write_text(json.dumps({"rows": rows, "files": files, "seed": seed, **figures}),
                                encoding="utf-8")
    return folder


def customers_dataset(data_dir: Path, rows: int, rows_per_file: int, seed: int = 0) -> Path:
    """The folder of a `rows`-row customers dataset under `data_dir`, generated unless already there."""
    folder, files, ready = _folder(data_dir, "customers", rows, rows_per_file, seed)
    if ready:
        return folder
    people = sample_data.draw_people(rows, seed)
    table = sample_data.build_table(TABLE, people, seed, TABLE_NUMBER)
    del people
    sample_data.write_dataset(table, folder, files)
    return _mark_ready(folder, rows, files, seed)


def describe(folder: Path, kind: str = CUSTOMERS_KIND) -> DatasetInfo:
    """Rows, files, sizes and non-null string cells, from the Parquet footers and the first file's data."""
    paths = sorted(Path(folder).glob("part-*.parquet"))
    rows = on_disk = uncompressed = string_cells = 0
    for path in paths:
        metadata = pq.ParquetFile(path).metadata
        schema = metadata.schema.to_arrow_schema()
        strings = [i for i, f in enumerate(schema) if pa.types.is_string(f.type)]
        rows += metadata.num_rows
        on_disk += path.stat().st_size
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            uncompressed += group.total_byte_size
            for c in strings:
                column = group.column(c)
                nulls = column.statistics.null_count if column.statistics is not None else 0
                string_cells += group.num_rows - (nulls or 0)
    first = pq.read_table(paths[0])
    in_memory = round(first.nbytes / max(first.num_rows, 1) * rows)
    return DatasetInfo(Path(folder), rows, len(paths), on_disk, uncompressed, in_memory, string_cells, kind)


STATUSES = ("正常", "逾期", "结清", "核销")


def quasi_identifier_dataset(data_dir: Path, rows: int, rows_per_file: int, seed: int = 0) -> Path:
    """A loans-shaped table of quasi-identifiers only, for measuring risk at scale: a borrower id (about
    0.6 loans' worth of distinct people), birth date, gender, county code and a loan status (the sensitive
    column). Generated file by file with numpy, so 10,000,000 rows take seconds and little memory."""
    folder, files, ready = _folder(data_dir, "quasi-identifiers", rows, rows_per_file, seed)
    if ready:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    counties = pa.array(sample_data.AREA_CODES, pa.string())
    first_day = np.datetime64("1950-01-01").astype(int)
    days = np.datetime64("2005-12-31").astype(int) - first_day
    for number in range(files):
        n = min(rows_per_file, rows - number * rows_per_file)
        table = pa.table({
            "borrower": pa.array(rng.integers(0, int(rows * 0.6), n)),
            "birth_date": pa.array((first_day + rng.integers(0, days, n)).astype("datetime64[D]")),
            "gender": pa.array(np.where(rng.integers(0, 2, n) == 1, "男", "女")),
            "county": counties.take(pa.array(rng.integers(0, len(counties), n))),
            "status": pa.array(STATUSES).take(pa.array(rng.integers(0, len(STATUSES), n))),
        })
        pq.write_table(table, folder / f"part-{number:05d}.parquet", compression="zstd")
    return _mark_ready(folder, rows, files, seed)


# --------------------------------------------------------------------------------------------------
# Loan-collection notes: the PII-dense table
#
# The customers table holds most of its numbers alone in dedicated columns and few in its remarks, so a
# fast path for whole values carries it. Collection agencies receive the opposite: free-text notes an
# agent wrote while chasing a debt, several numbers in most of them, in the notations people type, next
# to order numbers that are not personal data, plus the contact list a lending app collected, as JSON
# text. This table measures the engine on text.

NOTES_STREAM = 101  # the notes' random streams, apart from sample_data's tables (0-5)
FIRST_NOTE_ID = 80_000_001
NOTES_PER_BORROWER = 4  # borrowers are drawn from ceil(rows / 4) people: a loan gets several notes
MAX_NOTES = 10**9  # loan_ref's unique part is an affine map of the row number modulo 10**12 (see below)
LOAN_REF_MULTIPLIER = 7_919_113_441  # odd and not a multiple of 5: coprime with 10**12, so a bijection
LOAN_REF_LENGTHS = ((18, 0.3), (19, 0.4), (20, 0.3))
RELATIONS = ("父亲", "母亲", "配偶", "子女", "兄弟姐妹", "同事", "朋友", "其他")

# Numbers that are personal data (resident ID, phone, bank card) and the references that are not.
PERSONAL_SLOTS = frozenset({"phone", "phone2", "landline", "id", "card", "new_card"})
REFERENCE_SLOTS = frozenset({"order_no", "serial_no"})

# Clauses an agent writes, by weight. A clause never puts two numbers side by side and always starts and
# ends with text, so the numbers of a note stay apart wherever its clauses are joined.
CLAUSES = (
    # without personal numbers (some with order or serial numbers, amounts, dates)
    ("外呼无人接听。", 10), ("客户未接听，已发送短信提醒。", 8), ("客户称月底前还款。", 6),
    ("客户已还款{amount}元，流水号{serial_no}。", 5), ("订单号{order_no}，已逾期{days}天。", 8),
    ("客户要求减免罚息，已记录，待主管审批。", 4), ("客户承诺{date}前还清，金额{amount}元。", 6),
    ("还款订单号{order_no}已核实入账。", 4), ("客户情绪激动，投诉催收频繁，已安抚。", 3),
    ("已寄送律师函。", 2),
    # one personal number
    ("借款人{borrower}，电话{phone}。", 8), ("致电联系人{contact}（{relation}）{phone}无人接听。", 10),
    ("客户提供新手机号{phone}，已更新。", 6), ("单位电话{landline}，前台称其已离职。", 4),
    ("家庭座机{landline}无人接听。", 3), ("客户报身份证号{id}，核对一致。", 5),
    ("扣款卡{card}余额不足，扣款失败。", 5), ("客户称新卡号{new_card}，已更新代扣。", 4),
    ("联系人{contact}（{relation}）电话{phone}，称会转告。", 6), ("短信已发送至{phone}。", 3),
    # two
    ("原卡{card}扣款失败，客户称新卡号{new_card}。", 5),
    ("借款人{borrower}，电话{phone}，身份证{id}，已承诺{date}还款{amount}元。", 8),
    ("联系人{contact}电话{phone}已停机，改拨{phone2}接通。", 4),
    ("核实身份证{id}后，客户确认还款卡{card}。", 3),
    ("客户换号{phone}，单位电话{landline}。", 3),
    # three
    ("借款人{borrower}，身份证{id}，手机{phone}，代扣卡{new_card}。", 4),
    ("客户换号{phone}，单位电话{landline}，工资卡{card}。", 2),
)  # fmt: skip

# How a note's personal numbers split into clauses, by weight: 0 to 4 numbers, 2 on average.
NOTE_PLANS = (
    ((), 15), ((1,), 25), ((2,), 12), ((1, 1), 13), ((3,), 6), ((2, 1), 5), ((1, 2), 4), ((1, 1, 1), 5),
    ((2, 2), 4), ((3, 1), 3), ((1, 3), 2), ((2, 1, 1), 3), ((1, 1, 1, 1), 3),
)  # fmt: skip
LEAD_CLAUSE_SHARE = 0.5  # a clause without personal numbers before them (always, when there are none)
CLOSING_CLAUSE_SHARE = 0.3  # and one after them
CONTACT_COUNTS = ((0, 0.15), (1, 0.35), (2, 0.3), (3, 0.2))


def _slot_fields(template: str) -> list[str]:
    return [field for _, field, _, _ in Formatter().parse(template) if field is not None]


@dataclass(frozen=True)
class _Clause:
    template: str
    weight: float
    personal: int
    references: int


_CLAUSES_BY_PERSONAL: dict[int, list[_Clause]] = {}
for _template, _weight in CLAUSES:
    _fields = _slot_fields(_template)
    _clause = _Clause(_template, _weight, sum(f in PERSONAL_SLOTS for f in _fields),
                      sum(f in REFERENCE_SLOTS for f in _fields))
    _CLAUSES_BY_PERSONAL.setdefault(_clause.personal, []).append(_clause)


def _rewrite(pattern: str, replacement: str) -> sample_data.Style:
    return functools.partial(pc.replace_substring_regex, pattern=pattern, replacement=replacement)


def _grouped(separator: str) -> sample_data.Style:
    """Card numbers in groups of four, `6222 0200 1234 5678 901` or with dashes."""
    def style(values: pa.Array) -> pa.Array:
        grouped = pc.replace_substring_regex(values, r"(\d{4})", r"\1" + separator)
        return pc.utf8_rtrim(grouped, characters=separator)
    return style


GROUPED_CARD_STYLES = ((_grouped(" "), 0.7), (_grouped("-"), 0.2), (lambda values: values, 0.1))
NOTE_LANDLINE_STYLES = (
    *sample_data.LANDLINE_STYLES,  # 0755-86001234, (0755)86001234, （0755）86001234, 0755 86001234
    (_rewrite(r"^(0\d{2,3})-(\d{4})(\d{4})$", r"\1-\2 \3"), 0.3),  # 021-6234 5678
)


def _dates(rows: sample_data.Rows) -> pa.Array:
    """Promised repayment dates, as `2025-03-15` or `3月15日`."""
    days = np.datetime64("2024-01-01") + rows.rng.integers(0, 540, len(rows)).astype("timedelta64[D]")
    dates = pa.array(days, pa.date32())
    iso = pc.strftime(pc.cast(dates, pa.timestamp("s")), format="%Y-%m-%d")
    months, days_of_month = pc.cast(pc.month(dates), pa.string()), pc.cast(pc.day(dates), pa.string())
    short = pc.binary_join_element_wise(months, "月", days_of_month, "日", "")
    return pc.if_else(rows.rng.random(len(rows)) < 0.5, iso, short)


NOTE_SLOTS: dict[str, sample_data.Column] = {
    "borrower": lambda rows: rows.their(rows.people.name),
    "contact": sample_data.contact_names,
    "relation": lambda rows: pa.array(RELATIONS).take(rows.rng.integers(0, len(RELATIONS), len(rows))),
    "phone": sample_data.SLOTS["phone"],  # mobiles bare, 3-4-4 with spaces or dashes, +86, 0086-…
    "phone2": sample_data.SLOTS["phone"],
    "landline": lambda rows: sample_data.restyle(rows.rng, sample_data.landline_numbers(rows.rng, len(rows)),
                                                 NOTE_LANDLINE_STYLES),
    "id": sample_data.SLOTS["own_id"],  # the borrower's, some with a lower-case x or spaced 6-8-4
    "card": lambda rows: rows.their(rows.people.bank_card),
    "new_card": lambda rows: sample_data.restyle(rows.rng, sample_data.card_numbers(rows.rng, len(rows)),
                                                 GROUPED_CARD_STYLES),
    "order_no": sample_data.SLOTS["order_no"],  # 19 digits: not personal data, as cards are 19 digits
    "serial_no": sample_data.SLOTS["serial_no"],  # 13-digit millisecond timestamps
    "amount": sample_data.SLOTS["amount"],
    "days": lambda rows: pc.cast(pa.array(rows.rng.integers(1, 181, len(rows))), pa.string()),
    "date": _dates,
}


def _clauses(rows: sample_data.Rows, personal: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """One clause per row holding `personal[i]` personal numbers ("" where it is -1), and the reference
    numbers each clause holds."""
    references = np.zeros(len(rows), dtype=np.int64)
    empty = np.flatnonzero(personal < 0)
    positions, parts = [empty], [pa.repeat(pa.scalar(""), empty.size)]
    for count, clauses in _CLAUSES_BY_PERSONAL.items():
        where = np.flatnonzero(personal == count)
        weights = np.array([c.weight for c in clauses])
        choice = rows.rng.choice(len(clauses), size=where.size, p=weights / weights.sum())
        for index, clause in enumerate(clauses):
            chosen = where[choice == index]
            if chosen.size:
                positions.append(chosen)
                parts.append(sample_data.fill(clause.template, rows.subset(chosen), NOTE_SLOTS))
                references[chosen] += clause.references
    return pa.concat_arrays(parts).take(np.argsort(np.concatenate(positions))), references


def _json_text(values: pa.Array) -> pa.Array:
    """Values escaped for a JSON string (backslashes and double quotes; names hold no control characters)."""
    return pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')


def _contacts(rows: sample_data.Rows) -> tuple[pa.Array, np.ndarray]:
    """The contact list as JSON text, 0-3 entries of name, relation and phone; and the entries per row."""
    n = len(rows)

    def phones(kind: str, where: np.ndarray) -> pa.Array:
        if kind == "mobile":
            return sample_data.restyle(rows.rng, sample_data.mobile_numbers(rows.rng, where.size),
                                       sample_data.MOBILE_STYLES)
        return sample_data.restyle(rows.rng, sample_data.landline_numbers(rows.rng, where.size),
                                   NOTE_LANDLINE_STYLES)

    entries = []
    for _ in range(3):
        entries.append(pc.binary_join_element_wise(
            '{"name": "', _json_text(sample_data.contact_names(rows)),
            '", "relation": "', NOTE_SLOTS["relation"](rows),
            '", "phone": "', sample_data.mix(rows.rng, n, (("mobile", 0.85), ("landline", 0.15)), phones),
            '"}', ""))
    counts = np.array([c for c, _ in CONTACT_COUNTS])[
        rows.rng.choice(len(CONTACT_COUNTS), size=n, p=[p for _, p in CONTACT_COUNTS])]
    lists = pa.repeat(pa.scalar("[]"), n)
    for count in (1, 2, 3):
        joined = pc.binary_join_element_wise(*entries[:count], ", ")
        joined = pc.binary_join_element_wise("[", joined, "]", "")
        lists = pc.if_else(counts == count, joined, lists)
    return lists, counts


def _loan_refs(rng: np.random.Generator, note_numbers: np.ndarray) -> pa.Array:
    """Unique 18-20 digit loan references: a random head (not starting with 0) and a 12-digit tail that
    is a bijection of the row number. Random digits, so most fail Luhn and every ID check, as order
    numbers do; they are not personal data."""
    n = len(note_numbers)
    tail = (note_numbers * LOAN_REF_MULTIPLIER + int(rng.integers(0, 10**12))) % 10**12
    lengths = np.array([length for length, _ in LOAN_REF_LENGTHS])[
        rng.choice(len(LOAN_REF_LENGTHS), size=n, p=[p for _, p in LOAN_REF_LENGTHS])]
    head_digits = lengths - 12
    head = rng.integers(10 ** (head_digits - 1), 10**head_digits)
    return pc.binary_join_element_wise(pc.cast(pa.array(head), pa.string()),
                                       pc.utf8_lpad(pc.cast(pa.array(tail), pa.string()), 12, "0"), "")


@dataclass(frozen=True)
class LoanNotes:
    """A batch of loan-collection notes and what they hold, per row, for tests and the report."""

    table: pa.Table  # note_id, loan_ref, note, contacts, created_at
    personal_numbers: np.ndarray  # resident IDs, phones and bank cards in `note`
    reference_numbers: np.ndarray  # order and serial numbers in `note` (not personal data)
    contact_phones: np.ndarray  # entries in `contacts`, one phone each


def loan_note_borrowers(rows: int, seed: int) -> sample_data.People:
    """The people a `rows`-row notes dataset is about: ceil(rows / NOTES_PER_BORROWER) customers."""
    return sample_data.draw_people(max(1, math.ceil(rows / NOTES_PER_BORROWER)), seed)


def loan_notes(people: sample_data.People, first_note: int, rows: int, seed: int) -> LoanNotes:
    """Notes `first_note` … `first_note + rows - 1` of a notes dataset about `people`, deterministic for
    (seed, first_note, rows). Each note holds 0-4 personal numbers (2 on average) from sample_data's
    generators (IDs with their MOD 11-2 check character, Luhn-valid cards on real BINs, mobiles in
    allocated segments) in mixed notations, among clauses without any."""
    if first_note < 0 or rows < 0 or first_note + rows > MAX_NOTES:
        raise ValueError(f"notes must lie in [0, {MAX_NOTES:,}), got {first_note:,} + {rows:,} rows")
    rng = np.random.default_rng([seed, NOTES_STREAM, first_note])
    # Borrowers with 18-character IDs: legacy 15-digit numbers are rare in a collection agency's notes.
    current_ids = np.flatnonzero(pc.utf8_length(people.id_number).to_numpy(zero_copy_only=False) == 18)
    borrower = current_ids[rng.integers(0, current_ids.size, rows)]
    notes = sample_data.Rows(people, borrower, rng)

    plan_weights = np.array([w for _, w in NOTE_PLANS], dtype=float)
    plan = rng.choice(len(NOTE_PLANS), size=rows, p=plan_weights / plan_weights.sum())
    width = max(len(p) for p, _ in NOTE_PLANS)
    personal = np.full((rows, width + 2), -1)  # lead clause, up to `width` clauses with numbers, closing
    for index, (parts, _) in enumerate(NOTE_PLANS):
        personal[np.ix_(plan == index, np.arange(1, 1 + len(parts)))] = parts
    lead = (rng.random(rows) < LEAD_CLAUSE_SHARE) | (plan == 0)
    personal[lead, 0] = 0
    personal[rng.random(rows) < CLOSING_CLAUSE_SHARE, -1] = 0

    clauses, references = [], np.zeros(rows, dtype=np.int64)
    for position in range(personal.shape[1]):
        text, found = _clauses(notes, personal[:, position])
        clauses.append(text)
        references += found
    contacts, contact_counts = _contacts(notes)
    numbers = first_note + np.arange(rows, dtype=np.int64)
    first, stop = np.datetime64("2023-01-01", "ms"), np.datetime64("2025-07-01", "ms")
    created = first + rng.integers(0, (stop - first).astype(np.int64), rows).astype("timedelta64[ms]")
    table = pa.table({
        "note_id": pa.array(FIRST_NOTE_ID + numbers),
        "loan_ref": _loan_refs(rng, numbers),
        "note": pc.binary_join_element_wise(*clauses, ""),
        "contacts": contacts,
        "created_at": pa.array(created, pa.timestamp("ms")),
    })
    return LoanNotes(table, np.clip(personal, 0, None).sum(axis=1), references, contact_counts)


def loan_notes_dataset(data_dir: Path, rows: int, rows_per_file: int, seed: int = 0) -> Path:
    """The folder of a `rows`-row loan-collection notes dataset under `data_dir`, generated file by file
    unless already there; its marker records how many numbers the notes and contact lists hold."""
    folder, files, ready = _folder(data_dir, "loan-notes", rows, rows_per_file, seed)
    if ready:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("part-*.parquet"):
        stale.unlink()
    people = loan_note_borrowers(rows, seed)
    bounds = np.linspace(0, rows, files + 1).astype(int)
    personal = references = contact_phones = 0
    for number, (start, stop) in enumerate(itertools.pairwise(bounds)):
        batch = loan_notes(people, int(start), int(stop - start), seed)
        pq.write_table(batch.table, folder / f"part-{number:05d}.parquet")
        personal += int(batch.personal_numbers.sum())
        references += int(batch.reference_numbers.sum())
        contact_phones += int(batch.contact_phones.sum())
    return _mark_ready(folder, rows, files, seed, personal_numbers_in_notes=personal,
                       reference_numbers_in_notes=references, phones_in_contacts=contact_phones)


def loan_notes_figures(folder: Path) -> dict[str, int]:
    """What the marker of a notes dataset records: rows, files, seed and the numbers it holds."""
    return json.loads((Path(folder) / READY).read_text(encoding="utf-8"))
