"""The benchmark runs end to end on a small dataset and reports every step (no timing is asserted)."""

from __future__ import annotations

import itertools
import json
import re

import pyarrow.parquet as pq

from benchmarks import dataset, run
from recognizers import bank_card, phone, resident_id


def test_benchmark_reports_every_step(tmp_path, capsys):
    results = tmp_path / "latest.md"
    status = run.main(["--rows", "4000", "--rows-per-file", "2000", "--presidio-cells", "200", "--scaling",
                       "--memory", "--memory-rows", "8000", "--worker-memory", "512MB", "--release-k", "1",
                       "--risk", "--risk-rows", "6000", "--risk-memory", "512MB", "--notes-rows", "2000",
                       "--data-dir", str(tmp_path / "data"), "--results", str(results)])
    printed = capsys.readouterr().out
    assert status == 0
    assert results.read_text(encoding="utf-8") == printed.rstrip("\n") + "\n"
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "---" not in line][1:]
    steps = [row.split(" | ")[0].lstrip("| ") for row in rows]
    assert steps == [
        "floor: pyarrow read + write",
        "Presidio per cell (200-cell sample, extrapolated)",
        "cnpii scan default.yaml",
        "cnpii run default.yaml",
        "cnpii run analytics_vendor.yaml",
        "cnpii run analytics_vendor-release1.yaml (+ release: k=1, people; ID x birth year x gender)",
        "cnpii run analytics_vendor-release2.yaml (+ release: k=1, rows; birth year x gender x city)",
        "cnpii run default.yaml --scheduler processes",
        "cnpii run default.yaml",
        "floor: pyarrow read + write (loan notes)",
        "cnpii run default.yaml (loan notes)",
        "cnpii run default.yaml (loan notes)",
        "cnpii run default.yaml on 2 Dask workers × 512MB",
        "cnpii risk (birth_date,gender,county, people, l) on 2 Dask workers × 512MB",
    ]
    for row in rows[2:]:
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        name, by_floor, by_presidio = cells[0], cells[4], cells[5]
        if name.startswith("floor:"):
            continue
        # every cnpii step has its x floor (against its own dataset's floor); x Presidio only on customers
        assert by_floor != "—", row
        assert (by_presidio == "—") == name.endswith("(loan notes)"), row
    assert "notes dataset: loan-collection notes" in printed


NUMBER = re.compile(r"\d[\d -]*[\dXx]")  # a number with the spaces and dashes people type inside it
MARKS = re.compile(r"[()（）+]")  # brackets around an area code, the + of +86: dropped before matching


def numbers_in(note: str) -> list[str]:
    """The runs of at least 10 digits in a note, separators removed: every ID, phone, card, order and
    serial number, and no amount or date (those have at most 8 digits)."""
    runs = [re.sub(r"[ -]", "", run) for run in NUMBER.findall(MARKS.sub("", note))]
    return [run.upper() for run in runs if sum(c.isdigit() for c in run) >= 10]


def national(number: str) -> str:
    """A phone without its country code."""
    for prefix in ("0086", "86"):
        if number.startswith(prefix) and len(number) - len(prefix) == 11:
            return number[len(prefix):]
    return number


def is_personal(number: str) -> bool:
    return (resident_id.is_valid(number) or phone.is_valid(national(number))
            or (number.isdigit() and 16 <= len(number) <= 19 and bank_card.luhn_valid(number)))


def test_loan_notes_are_deterministic_and_hold_the_numbers_they_claim():
    people = dataset.loan_note_borrowers(300, seed=3)
    notes = dataset.loan_notes(people, first_note=1000, rows=300, seed=3)
    again = dataset.loan_notes(dataset.loan_note_borrowers(300, seed=3), first_note=1000, rows=300, seed=3)
    assert notes.table.equals(again.table)
    assert not notes.table.equals(dataset.loan_notes(people, first_note=1000, rows=300, seed=4).table)
    assert notes.table.column_names == ["note_id", "loan_ref", "note", "contacts", "created_at"]
    assert set(notes.personal_numbers) == {0, 1, 2, 3, 4}

    for i, note in enumerate(notes.table.column("note").to_pylist()):
        found = numbers_in(note)
        personal, references = int(notes.personal_numbers[i]), int(notes.reference_numbers[i])
        assert len(found) == personal + references, note
        # order and serial numbers are random digits: some pass a check by chance, most do not
        assert personal <= sum(map(is_personal, found)) <= personal + references, note

    contacts = [json.loads(text) for text in notes.table.column("contacts").to_pylist()]
    assert [len(c) for c in contacts] == list(notes.contact_phones)
    for entry in itertools.chain.from_iterable(contacts):
        assert set(entry) == {"name", "relation", "phone"} and entry["relation"] in dataset.RELATIONS
        assert phone.is_valid(national(MARKS.sub("", entry["phone"]).replace(" ", "").replace("-", "")))


def test_loan_notes_dataset_has_unique_references_that_are_not_personal_data(tmp_path):
    folder = dataset.loan_notes_dataset(tmp_path, rows=600, rows_per_file=250, seed=1)
    assert dataset.loan_notes_dataset(tmp_path, rows=600, rows_per_file=250, seed=1) == folder  # cached
    table = pq.read_table(folder)
    assert table.num_rows == 600 and len(list(folder.glob("part-*.parquet"))) == 3
    first = dataset.FIRST_NOTE_ID
    assert table.column("note_id").to_pylist() == list(range(first, first + 600))
    refs = table.column("loan_ref").to_pylist()
    assert len(set(refs)) == len(refs)
    assert all(ref.isdigit() and 18 <= len(ref) <= 20 and ref[0] != "0" for ref in refs)
    assert sum(map(bank_card.luhn_valid, refs)) < 0.2 * len(refs)  # random digits: about 1 in 10
    assert not any(resident_id.is_valid(ref) for ref in refs if len(ref) == 18)
    figures = dataset.loan_notes_figures(folder)
    claimed = sum(len(numbers_in(note)) for note in table.column("note").to_pylist())
    assert figures["personal_numbers_in_notes"] + figures["reference_numbers_in_notes"] == claimed
