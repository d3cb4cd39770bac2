"""`cnpii detect`: JSON Lines in, the same objects with entities out."""

import io
import json

from pipeline.cli import main


def run(monkeypatch, capsys, stdin, *args):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["detect", *args])
    return code, capsys.readouterr()


def test_detect_adds_entities_and_keeps_other_fields(monkeypatch, capsys):
    line = json.dumps({"id": 7, "text": "手机13800138000，卡号6222020000000000000"}, ensure_ascii=False)
    code, out = run(monkeypatch, capsys, line + "\n")
    record = json.loads(out.out)
    assert code == 0 and record["id"] == 7
    assert [(e["type"], e["start"], e["end"]) for e in record["entities"]] == [
        ("CN_PHONE", 2, 13),
        ("CN_BANK_CARD", 16, 35),
    ]


def test_detect_entities_option_limits_types(monkeypatch, capsys):
    code, out = run(
        monkeypatch,
        capsys,
        '{"text": "手机13800138000，卡号6222020000000000000"}\n',
        "--entities",
        "CN_BANK_CARD",
    )
    assert code == 0
    assert [e["type"] for e in json.loads(out.out)["entities"]] == ["CN_BANK_CARD"]


def test_bad_line_is_named_by_number_not_content(monkeypatch, capsys):
    code, out = run(monkeypatch, capsys, '{"text": "ok"}\n{"body": "13800138000"}\n')
    assert code == 2
    assert "line 2" in out.err and "13800138000" not in out.err


def test_unknown_entity_is_a_usage_error(monkeypatch, capsys):
    code, out = run(monkeypatch, capsys, "", "--entities", "CN_PASSPORT")
    assert code == 2 and "CN_PASSPORT" in out.err
