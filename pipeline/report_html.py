"""One self-contained HTML page rendered from a scan, run or verify report, for a compliance file.

The JSON report stays the source of truth (`pipeline.report`); this page is a reading of it that can be
archived and opened years later, offline, from a mail attachment or a document store: it loads nothing
(no scripts, stylesheets, fonts or images from anywhere), styles itself with one inline <style> and draws
its charts as inline SVG. Every string taken from the report (column names, entity names, examples,
notes, quasi-identifiers) is HTML-escaped, since column names come from whoever wrote the input file.

Sections, each present only when the report has it: status and run facts, notes, findings per column and
entity, verify checks with residual findings, and the re-identification risk of the release (k and l
achieved against the policy's targets, before and after enforcement, the generalization chosen per
quasi-identifier, the equivalence-class size histogram and the records unique on each quasi-identifier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from pipeline.report import known_values_line

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.name { white-space: pre-wrap; font-family: monospace; }
.status { display: inline-block; padding: 0.3em 0.9em; border-radius: 0.3em; font-weight: bold;
  font-size: 1.3em; color: #fff; background: #777; }
.good { background: #1e7d32; } .bad { background: #c62828; }
.pass { color: #1e7d32; font-weight: bold; } .fail { color: #c62828; font-weight: bold; }
.na { color: #777; }
.rung { display: inline-block; padding: 0.1em 0.5em; margin: 0.1em; border: 1px solid #bbb;
  border-radius: 0.2em; color: #666; }
.rung.chosen { background: #1565c0; border-color: #1565c0; color: #fff; font-weight: bold; }
.box { border: 2px solid #888; padding: 0.4em 1em; display: inline-block; }
svg text { font-family: system-ui, sans-serif; font-size: 12px; fill: #222; }
svg rect.bar { fill: #1565c0; }
"""

_RISK_TEXT = (
    "k-anonymity bounds the chance of picking out one person among the records that share the released "
    "quasi-identifiers: every such class holds at least k records, so the prosecutor risk is at most 1/k. "
    "It does not protect against linkage across releases through stable tokens, against attributes not "
    "declared as quasi-identifiers, or against free text. l-diversity guards against learning the "
    "sensitive value of a whole class: every class holds at least l distinct sensitive values."
)

_FACTS = ("run_id", "input", "output", "rows", "files", "policy_digest", "key_fingerprint", "started_at",
          "seconds", "leaks")
_NONE = '<span class="na">—</span>'


def _e(value: Any) -> str:
    """Escaped text of one value from the report; None shows as a dash."""
    if value is None:
        return _NONE
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape(str(value))


def _pct(share: Any) -> str:
    return _NONE if share is None else escape(f"{float(share):.1%}")


def _mark(passed: bool | None) -> str:
    if passed is None:
        return _NONE
    return '<span class="pass">✔ pass</span>' if passed else '<span class="fail">✘ fail</span>'


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table of already escaped cells; headers are fixed text of this module."""
    head = "<thead><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr></thead>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _findings(columns: Mapping[str, Mapping[str, Any]]) -> str:
    rows = []
    for name, column in columns.items():
        for entity, entry in (column.get("entities") or {}).items():
            examples = ", ".join(escape(str(x)) for x in entry.get("masked_examples") or [])
            rows.append([f'<span class="name">{_e(name)}</span>', _e(entity), _e(entry.get("rows")),
                         _pct(entry.get("share_of_non_null")), _e(entry.get("layout")),
                         _e(entry.get("confidence")), _e(entry.get("action")), examples])
    if not rows:
        return "<p>No personal information found.</p>"
    header = ["column", "entity", "rows", "share", "layout", "confidence", "action", "masked examples"]
    return _table(header, rows)


def _bar_chart(title: str, axis: str, bars: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars as inline SVG: (label, value, note) per bar; value and note are printed."""
    left, width, step, top = 150, 360, 24, 28
    height = top + step * len(bars) + 34
    largest = max((value for _, value, _ in bars), default=0) or 1
    parts = [f'<svg role="img" width="{left + width + 190}" height="{height}" '
             f'viewBox="0 0 {left + width + 190} {height}"><title>{escape(title)}</title>',
             f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>']
    for i, (label, value, note) in enumerate(bars):
        y = top + i * step
        length = round(width * value / largest)
        short = label if len(label) <= 22 else label[:21] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(short)}</text>'
                     f'<rect class="bar" x="{left}" y="{y + 3}" width="{length}" height="{step - 6}">'
                     f"<title>{escape(label)}: {value:,}</title></rect>"
                     f'<text x="{left + length + 6}" y="{y + 15}">{value:,}{escape(note)}</text>')
    bottom = top + step * len(bars)
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#444"></line>'
                 f'<line x1="{left}" y1="{bottom}" x2="{left + width}" y2="{bottom}" stroke="#444"></line>'
                 f'<text x="{left}" y="{bottom + 14}">0</text>'
                 f'<text x="{left + width}" y="{bottom + 14}" text-anchor="end">{largest:,}</text>'
                 f'<text x="{left + width // 2}" y="{bottom + 28}" text-anchor="middle">{escape(axis)}</text>'
                 "</svg>")
    return "".join(parts)


def _target_rows(release: Mapping[str, Any], sides: Sequence[Mapping[str, Any] | None]) -> list[list[str]]:
    """The k, l and suppression lines of the summary box: target, then each side, then pass or fail."""
    target = release.get("target") or {}
    k_target = target.get("k_anonymity")
    diversity = target.get("l_diversity") or {}
    l_target = diversity.get("l")
    max_suppressed = target.get("max_suppressed")
    suppressed = (release.get("suppressed") or {}).get("share")

    def k_cell(side: Mapping[str, Any] | None) -> str:
        if side is None:
            return _NONE
        return _e(side.get("k")) if side.get("k") is not None else '<span class="na">no classes</span>'

    def at_least(value: Any, bound: Any) -> bool | None:
        return None if bound is None or value is None else value >= bound

    measured = sides[-1] or {}
    l_name = f"l ({_e(diversity.get('sensitive'))})" if diversity.get("sensitive") else "l"
    rows = [
        ["k", _e(k_target), *[k_cell(s) for s in sides], _mark(at_least(measured.get("k"), k_target))],
        [l_name, _e(l_target), *[_e((s or {}).get("l")) for s in sides],
         _mark(at_least(measured.get("l"), l_target))],
        ["suppressed share", _pct(max_suppressed),
         *([_NONE] * (len(sides) - 1)), _pct(suppressed),
         _mark(None if max_suppressed is None or suppressed is None else suppressed <= max_suppressed)],
    ]
    return rows


def _release(release: Mapping[str, Any]) -> str:
    measured = release.get("measured") or {}
    before = release.get("before")
    sides: list[Mapping[str, Any] | None] = [before, measured] if before else [measured]
    side_names = ["before", "after"] if before else ["achieved"]
    counted = _e(release.get("counted") or "rows")
    if release.get("person"):
        counted += f" (person: <span class=\"name\">{_e(release['person'])}</span>)"
    qis = [str(q) for q in release.get("quasi_identifiers") or []]
    out = ["<section id=\"release\"><h2>Re-identification risk of the release</h2>", f"<p>{_RISK_TEXT}</p>",
           f"<p>Counted: {counted}. Quasi-identifiers: "
           + (", ".join(f'<span class="name">{_e(q)}</span>' for q in qis) or _NONE) + "</p>",
           f"<div class=\"box\"><h3>k achieved vs target {_mark(release.get('passed'))}</h3>",
           _table(["measure", "target", *side_names, ""], _target_rows(release, sides))]
    if release.get("detail"):
        out.append(f"<p>{_e(release['detail'])}</p>")
    out.append("</div>")

    def figure(key: str, kind: str = "int") -> list[str]:
        return [_pct((s or {}).get(key)) if kind == "pct" else _e((s or {}).get(key)) for s in sides]

    threshold = measured.get("risk_threshold") or (release.get("before") or {}).get("risk_threshold")
    counts = [
        ["equivalence classes", *figure("classes")],
        ["unique records (class of 1)", *figure("uniques")],
        ["records", *figure("records")],
        [f"records at risk (risk above {_pct(threshold)})", *figure("records_at_risk")],
        ["max prosecutor risk", *figure("max_risk", "pct")],
        ["average prosecutor risk", *figure("avg_risk", "pct")],
        ["rows", *figure("rows")],
        ["rows left out", *figure("rows_left_out")],
    ]
    out += ["<h3>Counts</h3>", _table(["", *side_names], counts)]
    suppressed = release.get("suppressed")
    if suppressed:
        out.append(f"<p>Suppressed: {_e(suppressed.get('rows'))} rows ({_pct(suppressed.get('share'))}) "
                   f"in {_e(suppressed.get('classes'))} classes.</p>")

    ladders, node = release.get("ladders") or {}, release.get("node") or {}
    if ladders or node:
        rows = []
        for qi in dict.fromkeys([*qis, *ladders, *node]):
            chosen = node.get(qi)
            rungs = [str(r) for r in ladders.get(qi) or ([] if chosen is None else [chosen])]
            cells = " ".join(f'<span class="rung chosen">{_e(r)}</span>' if r == chosen
                             else f'<span class="rung">{_e(r)}</span>' for r in rungs)
            rows.append([f'<span class="name">{_e(qi)}</span>', _e(chosen), cells or _NONE])
        out += ["<h3>Generalization per quasi-identifier</h3>",
                _table(["quasi-identifier", "chosen", "ladder (finest first)"], rows)]

    histogram = measured.get("histogram") or []
    if histogram:
        bars = [(f"class size {h.get('class_size')}", int(h.get("records") or 0),
                 f" records · {int(h.get('classes') or 0):,} classes") for h in histogram]
        out.append(_bar_chart("Records per equivalence-class size", "records", bars))
    uniques = measured.get("uniques_per_quasi_identifier") or {}
    if uniques:
        bars = [(str(qi), int(n or 0), "") for qi, n in uniques.items()]
        out.append(_bar_chart("Records unique on each quasi-identifier alone", "unique records", bars))
    if measured.get("k") is None:
        out.append("<p>No equivalence classes were released.</p>")
    out.append("</section>")
    return "".join(out)


def _verify(verify: Mapping[str, Any]) -> str:
    status = verify.get("status")
    css = "good" if status == "passed" else "bad" if status == "failed" else ""
    checks = [[_mark(c.get("passed")), _e(c.get("check")), _e(c.get("detail"))]
              for c in verify.get("checks") or []]
    out = ["<section id=\"verify\"><h2>Verify</h2>",
           f'<p><span class="status {css}">{_e(status)}</span> '
           f'{_e(verify.get("leaks"))} residual findings</p>']
    if checks:
        out.append(_table(["", "check", "detail"], checks))
    if verify.get("residual"):
        out += ["<h3>Residual findings</h3>", _findings(verify["residual"])]
    out.append("</section>")
    return "".join(out)


def to_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page: inline style and SVG, nothing loaded from anywhere."""
    command, status = report["command"], report.get("status")
    css = "good" if status == "ok" else "bad" if status in ("leak", "risk") else ""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>cnpii {_e(command)} report</title><style>{_STYLE}</style></head><body>",
           f"<header><h1>cnpii {_e(command)} report</h1>"
           f'<p><span class="status {css}">{_e(status)}</span></p></header>']
    if report.get("notes"):
        out.append("<ul class=\"notes\">" + "".join(f"<li>{_e(n)}</li>" for n in report["notes"]) + "</ul>")
    facts = [[_e(key.replace("_", " ")), _e(report[key])] for key in _FACTS if report.get(key) is not None]
    if report.get("known_values"):
        facts.append(["known values", _e(known_values_line(report["known_values"]))])
    if facts:
        out += ["<section id=\"facts\"><h2>Run</h2>", _table([], facts), "</section>"]
    if "columns" in report:
        out += ['<section id="findings"><h2>Findings</h2>', _findings(report["columns"] or {}), "</section>"]
    if report.get("verify"):
        out.append(_verify(report["verify"]))
    if report.get("release"):
        out.append(_release(report["release"]))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
