"""The HTML report: one self-contained page, every report string escaped, release figures on the page."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest

from pipeline.report_html import to_html

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "wbr"}
HOSTILE = ["<script>alert(1)</script>", '"a\nb"', "x' onmouseover='y", "</td></tr></table><b>"]


class Page(HTMLParser):
    """Parses a page, checking that every non-void tag is closed in order; collects text and SVG text."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.svg_text: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.stack and self.stack[-1] == "text" and "svg" in self.stack:
            self.svg_text.append(data)


def parse(page: str) -> Page:
    parsed = Page(page)
    assert parsed.errors == []
    assert parsed.stack == []
    return parsed


def entity(rows: int, share: float, action: str | None = None, examples: list[str] | None = None) -> dict:
    entry: dict[str, Any] = {
        "rows": rows, "share_of_non_null": share, "findings": rows, "layout": "whole_value",
        "confidence": "high", "masked_examples": examples or ["138****5678"],
        "evidence": {"validated_share": 1.0, "whole_value_share": 1.0, "column_name": True},
    }
    if action:
        entry["action"] = action
    return entry


def scan_report() -> dict[str, Any]:
    return {
        "command": "scan", "status": "ok", "run_id": "scan-0001", "input": "data/in", "rows": 5000,
        "files": 3, "policy_digest": "sha256:abc", "started_at": "2025-01-02T03:04:05Z", "seconds": 1.5,
        "columns": {
            "mobile": {"rows": 5000, "non_null": 4900, "entities": {"CN_PHONE": entity(4711, 0.9614)}},
            "id_no": {"rows": 5000, "non_null": 5000,
                      "entities": {"CN_RESIDENT_ID": entity(4321, 0.8642, examples=["110***********1234"])}},
        },
    }


def measured(k: int | None, classes: int, uniques: int, histogram: list[tuple[str, int, int]],
             per_qi: dict[str, int]) -> dict[str, Any]:
    return {
        "k": k, "l": 2 if k else None, "classes": classes, "uniques": uniques, "records": 9000,
        "records_at_risk": 313, "risk_threshold": 0.2, "max_risk": 1.0 if uniques else 0.2,
        "avg_risk": 0.0437, "rows": 9100, "rows_left_out": 100,
        "histogram": [{"class_size": size, "classes": c, "records": r} for size, c, r in histogram],
        "uniques_per_quasi_identifier": per_qi,
    }


def run_report(qis: list[str] | None = None) -> dict[str, Any]:
    qis = qis or ["birth_year", "postcode", "gender"]
    report = scan_report()
    report.update(command="run", status="ok", run_id="run-0002", output="data/out", key_fingerprint="kf:77")
    for column, action in (("mobile", "mask"), ("id_no", "tokenize")):
        for entry in report["columns"][column]["entities"].values():
            entry["action"] = action
    report["notes"] = ["de-identified (PIPL art. 73(3)), not anonymized: masked values and keyed tokens "
                       "are still personal information for the receiver"]
    report["verify"] = {
        "status": "passed", "leaks": 0,
        "checks": [{"check": "no raw values", "passed": True, "detail": "0 residual findings"},
                   {"check": "row count", "passed": True, "detail": "9100 rows in, 9100 out"}],
        "residual": {},
    }
    report["release"] = {
        "counted": "people", "quasi_identifiers": qis, "person": "customer_id",
        "target": {"k_anonymity": 5, "l_diversity": {"sensitive": "diagnosis", "l": 2},
                   "max_suppressed": 0.05},
        "ladders": {qis[0]: ["year", "5 years", "decade", "*"],
                    qis[1]: ["6 digits", "4 digits", "2 digits", "*"],
                    qis[2]: ["value", "*"]},
        "node": {qis[0]: "5 years", qis[1]: "2 digits", qis[2]: "value"},
        "measured": measured(7, 612, 0, [("7", 57, 399), ("8-15", 301, 3377), ("16-31", 254, 5224)],
                             {qis[0]: 19, qis[1]: 37, qis[2]: 2}),
        "before": measured(1, 4410, 2987, [("1", 2987, 2987), ("2", 611, 1222), ("3-4", 812, 4791)],
                           {qis[0]: 83, qis[1]: 1406, qis[2]: 3}),
        "suppressed": {"rows": 277, "share": 0.0308, "classes": 31},
        "passed": True,
        "detail": "k=7 >= 5, l=2 >= 2, suppressed 3.1% <= 5.0%",
    }
    return report


def test_scan_report_has_findings_and_no_release():
    report = scan_report()
    page = to_html(report)
    text = "".join(parse(page).text)
    assert "cnpii scan report" in text
    assert "4,711" in text and "96.1%" in text and "138****5678" in text and "110***********1234" in text
    assert "<svg" not in page
    assert 'id="release"' not in page and "k-anonymity" not in page
    assert 'id="verify"' not in page
    assert "not anonymized" not in page  # only stated when the report's notes say so
    assert 'class="status good"' in page


@pytest.mark.parametrize(
    "report", [scan_report(), run_report(), run_report(HOSTILE)], ids=["scan", "run", "hostile"]
)
def test_self_contained(report):
    page = to_html(report)
    parsed = parse(page)
    lowered = page.lower()
    for forbidden in ("http://", "https://", "<script", "<link", "src=", "@import", "url("):
        assert forbidden not in lowered
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    assert not [name for name, _ in parsed.attrs if name.startswith("on") or name in ("src", "href")]
    assert parsed.tags.count("style") == 1


def test_run_report_release_figures():
    report = run_report()
    page = to_html(report)
    parsed = parse(page)
    text = "".join(parsed.text)
    svg_text = "\n".join(parsed.svg_text)
    release = report["release"]
    assert page.count("<svg") == 2
    assert "de-identified (PIPL art. 73(3)), not anonymized" in text
    assert "prosecutor risk is at most 1/k" in text and "l-diversity" in text
    # summary box: target k, before and after k, l, suppressed share against its maximum
    assert "k achieved vs target" in text
    assert "<td>k</td><td>5</td><td>1</td><td>7</td>" in page
    assert "<td>l (diagnosis)</td><td>2</td>" in page
    assert "3.1%" in text and "5.0%" in text
    assert page.count("✔ pass") >= 3 + 2  # release overall, k, l, suppression; plus two verify checks
    assert "✘ fail" not in text
    # counts before and after, risks as percentages
    for figure in ("612", "4,410", "2,987", "313", "20.0%", "100.0%", "4.4%"):
        assert figure in text
    # chosen rung highlighted within its ladder
    assert '<span class="rung chosen">5 years</span>' in page
    assert '<span class="rung chosen">2 digits</span>' in page
    assert '<span class="rung">decade</span>' in page
    # the charts show every bucket's records and classes and every QI's unique count, as SVG text
    for bucket in release["measured"]["histogram"]:
        assert f"class size {bucket['class_size']}" in svg_text
        assert f"{bucket['records']:,} records · {bucket['classes']:,} classes" in svg_text
    for qi, uniques in release["measured"]["uniques_per_quasi_identifier"].items():
        assert qi in svg_text and f"{uniques:,}" in svg_text
    assert "records" in svg_text and "unique records" in svg_text  # axis labels
    assert 'class="status good">passed' in page
    assert "9100 rows in, 9100 out" in text


def test_failing_release_and_verify_are_red():
    report = run_report()
    report["status"] = "risk"
    report["verify"]["status"] = "failed"
    report["verify"]["checks"][0].update(passed=False, detail="2 residual findings")
    residual = {"CN_PHONE": entity(2, 0.2, examples=["139****0000"])}
    report["verify"]["residual"] = {"mobile": {"rows": 10, "non_null": 10, "entities": residual}}
    release = report["release"]
    release.update(passed=False, before=None, suppressed={"rows": 900, "share": 0.1, "classes": 80})
    release["measured"]["k"] = 3
    page = to_html(report)
    text = "".join(parse(page).text)
    assert 'class="status bad">risk' in page and 'class="status bad">failed' in page
    assert "<td>k</td><td>5</td><td>3</td>" in page  # no before column
    assert text.count("✘ fail") == 4  # verify check, release overall, k, suppression
    assert "Residual findings" in text and "139****0000" in text


def test_release_without_classes_or_targets():
    report = run_report()
    release = report["release"]
    release.update(target={"k_anonymity": None, "l_diversity": None, "max_suppressed": None}, before=None,
                   passed=None, suppressed=None, ladders=None, node=None)
    release["measured"].update(k=None, l=None, classes=0, uniques=0, histogram=[],
                               uniques_per_quasi_identifier={})
    page = to_html(report)
    text = "".join(parse(page).text)
    assert "no classes" in text and "No equivalence classes were released." in text
    assert "<svg" not in page
    assert "Generalization per quasi-identifier" not in text
    assert "✘ fail" not in text and "✔ pass" in text  # the verify checks only


def test_hostile_strings_appear_only_escaped():
    report = run_report(HOSTILE)
    columns = {name: {"rows": 1, "non_null": 1, "entities": {"CN_PHONE": entity(1, 1.0, examples=[name])}}
               for name in HOSTILE}
    report["columns"] = columns
    report["notes"] = HOSTILE
    report["verify"]["checks"].append({"check": HOSTILE[0], "passed": False, "detail": HOSTILE[3]})
    report["release"]["person"] = HOSTILE[1]
    report["release"]["detail"] = HOSTILE[2]
    page = to_html(report)
    parsed = parse(page)
    for raw in HOSTILE:
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;a\nb&quot;" in page
    assert "x&#x27; onmouseover=&#x27;y" in page
    assert "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;b&gt;" in page
    assert "b" not in parsed.tags and "script" not in parsed.tags
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]
    text = "".join(parsed.text)
    for raw in HOSTILE:  # each name is still readable, once unescaped
        assert text.count(raw) >= 3
    # QI names in the SVG are escaped too (long names shortened, the full name in the bar's tooltip)
    assert "&lt;script&gt;alert(1)&lt;/scr…" in page


def test_input_not_modified():
    report = run_report(HOSTILE)
    kept = copy.deepcopy(report)
    to_html(report)
    assert report == kept
