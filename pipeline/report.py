"""Reports: JSON as the source of truth, Markdown rendered from it for people.

A report says, per column and entity, how many rows held it, what share of the non-null rows that is,
whether it fills whole values or sits inside free text, how confident the finding is and on what
evidence (validated values, the column's name), with display-masked examples. No raw value is ever put
in a report: examples pass through the display mask (`138****5678`) before they are recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pipeline.transform import ColumnStats
from recognizers.registry import column_context


def _confidence(share: float, validated_share: float, named: bool) -> str:
    if validated_share >= 0.9 and (share >= 0.5 or named):
        return "high"
    if validated_share >= 0.5 or named:
        return "medium"
    return "low"


def column_entry(name: str, stats: ColumnStats, action: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The report entry of one column: rows, and per entity found, counts, shares, evidence, examples."""
    entities = {}
    for entity, rows in sorted(stats.rows_with.items()):
        findings = stats.findings[entity]
        share = rows / stats.non_null if stats.non_null else 0.0
        validated_share = stats.validated[entity] / findings if findings else 0.0
        named = entity in column_context(name)
        whole_share = stats.whole_value[entity] / findings if findings else 0.0
        entities[entity] = {
            "rows": rows,
            "share_of_non_null": round(share, 4),
            "findings": findings,
            "layout": "whole_value" if whole_share >= 0.9 else "free_text",
            "confidence": _confidence(share, validated_share, named),
            "evidence": {
                "validated_share": round(validated_share, 4),
                "whole_value_share": round(whole_share, 4),
                "column_name": named,
            },
            "masked_examples": list(stats.examples.get(entity, [])),
        }
        if action is not None and entity in action:
            entities[entity]["action"] = action[entity]
    return {"rows": stats.rows, "non_null": stats.non_null, "entities": entities}


def entity_totals(columns: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Rows and findings per entity over all columns (a row counts once per column it holds it in)."""
    totals: dict[str, dict[str, int]] = {}
    for column in columns.values():
        for entity, entry in column["entities"].items():
            total = totals.setdefault(entity, {"rows": 0, "findings": 0, "columns": 0})
            total["rows"] += entry["rows"]
            total["findings"] += entry["findings"]
            total["columns"] += 1
    return totals


def to_json(report: Mapping[str, Any]) -> str:
    """The report as stable, readable JSON."""
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _cell(value: Any) -> str:
    """A table cell: column names come from whoever wrote the file, so `|` and line breaks are escaped."""
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _table(columns: Mapping[str, Any]) -> list[str]:
    """Report entries per column and entity as a Markdown table."""
    lines = ["| column | entity | rows | share | layout | confidence | action | masked examples |",
             "|---|---|---|---|---|---|---|---|"]
    for name, column in columns.items():
        for entity, entry in column["entities"].items():
            cells = [name, entity, entry["rows"], f"{entry['share_of_non_null']:.1%}", entry["layout"],
                     entry["confidence"], entry.get("action", ""), ", ".join(entry["masked_examples"])]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def known_values_line(section: Mapping[str, Any]) -> str:
    """The manifest's `known_values` as one sentence of counts."""
    if not section["matched"]:
        return "not matched across files (the cluster's workers cannot be reached directly)"
    return (f"{section['numbers_reported_again']} numbers the run reported elsewhere were reported again, "
            f"in {section['files_transformed_again']} files transformed again")


def to_markdown(report: Mapping[str, Any]) -> str:
    """A readable rendering of a scan, run or verify report for a compliance file."""
    lines = [f"# cnpii {report['command']} report", ""]
    for key in (
        "run_id",
        "status",
        "input",
        "output",
        "rows",
        "files",
        "policy_digest",
        "key_fingerprint",
        "started_at",
        "seconds",
    ):
        if report.get(key) is not None:
            lines.append(f"- **{key.replace('_', ' ')}**: {report[key]}")
    if report.get("verify"):
        verify = report["verify"]
        lines.append(f"- **verify**: {verify['status']} ({verify['leaks']} residual findings)")
    if report.get("allowed_residuals"):
        allowed = "; ".join(f"{_cell(name)} {entity} {rows} rows"
                            for name, entities in report["allowed_residuals"].items()
                            for entity, rows in entities.items())
        lines.append(f"- **allowed residuals** (let through by the policy): {allowed}")
    if report.get("known_values"):
        lines.append(f"- **known values**: {known_values_line(report['known_values'])}")
    if report.get("release"):
        release = report["release"]
        lines.append(f"- **release**: {'passed' if release['passed'] else 'failed'} ({release['detail']})")
    lines += ["", *_table(report.get("columns", {}))]
    residual = (report.get("verify") or {}).get("residual")
    if residual:
        lines += ["", "## Personal data left where the policy forbids it", "", *_table(residual)]
    if report.get("notes"):
        lines += ["", "## Notes", "", *[f"- {note}" for note in report["notes"]]]
    return "\n".join(lines) + "\n"
