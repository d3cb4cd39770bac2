"""`cnpii eval`: the match rule, corpus reading, exit codes, and the quality floors on unseen text."""

import json
import re
from pathlib import Path

import pytest

from benchmarks.real_corpora import Predicted
from recognizers import corpus
from recognizers.evaluation import CorpusError, Gold, Record, evaluate, load, main, score

CORPORA = Path(__file__).parent / "corpora"


def scored(text, *gold):
    """(precision, recall, predictions) for CN_PHONE/CN_BANK_CARD on one hand-made record."""
    report = evaluate([Record("x", text, tuple(Gold(*g) for g in gold))])
    return {t: (s.correct_predictions, s.predictions, s.found_gold, s.gold) for t, s in report.scores.items()}


def test_country_prefix_may_be_covered_or_not():
    # detect reports 手机[+86 13800138000]: the gold span holds the prefix, the core does not.
    assert scored("手机+86 13800138000", ("CN_PHONE", 2, 17, 6, 17))["CN_PHONE"] == (1, 1, 1, 1)


def test_prediction_covering_digits_outside_the_gold_span_misses():
    # Gold says the number is only 13800138000: the predicted `86` lies outside it.
    assert scored("手机+86 13800138000", ("CN_PHONE", 6, 17, 6, 17))["CN_PHONE"] == (0, 1, 0, 1)


def test_prediction_must_cover_every_core_digit():
    # detect stops before the extension; a gold core that includes it is not covered.
    assert scored("电话0755-86001234-8023", ("CN_PHONE", 2, 20, 2, 20))["CN_PHONE"] == (0, 1, 0, 1)
    # The extension inside the span but outside the core may be left out.
    assert scored("电话0755-86001234-8023", ("CN_PHONE", 2, 20, 2, 15))["CN_PHONE"] == (1, 1, 1, 1)


def test_brackets_and_separators_do_not_count():
    # detect reports 电话[(0755)86001234]; a gold span starting at the digits still matches.
    assert scored("电话(0755)86001234", ("CN_PHONE", 3, 16, 3, 16))["CN_PHONE"] == (1, 1, 1, 1)


def test_wrong_type_is_a_false_positive_and_a_miss():
    assert scored("卡号6222020000987654325", ("CN_PHONE", 2, 21, 2, 21)) == {
        "CN_RESIDENT_ID": (0, 0, 0, 0),
        "CN_PHONE": (0, 0, 0, 1),
        "CN_BANK_CARD": (0, 1, 0, 0),
    }


def test_prediction_on_an_ignore_span_counts_neither_way():
    # A known-BIN card failing Luhn is reported with card context; labeled IGNORE it is not scored.
    assert scored("卡号6222020000987654325", ("IGNORE", 2, 21, 2, 21))["CN_BANK_CARD"] == (0, 0, 0, 0)
    assert scored("卡号6222020000987654325")["CN_BANK_CARD"] == (0, 1, 0, 0)


def test_any_tool_is_scored_by_the_share_of_characters_or_by_touching():
    """`score` takes predictions from any tool: 张伟 for 张伟东 misses at 80% coverage, touches at 0."""
    record = Record("1", "借款人张伟东来电", (Gold("CN_PERSON_NAME", 3, 6, 3, 6),))
    short = [[Predicted("CN_PERSON_NAME", 3, 5)]]
    strict = score([record], short, ["CN_PERSON_NAME"]).scores["CN_PERSON_NAME"]
    touching = score([record], short, ["CN_PERSON_NAME"], 0.0).scores["CN_PERSON_NAME"]
    assert (strict.recall, touching.recall) == (0.0, 1.0)
    apart = score([record], [[Predicted("CN_PERSON_NAME", 0, 3)]], ["CN_PERSON_NAME"], 0.0)
    assert apart.scores["CN_PERSON_NAME"].precision == 0.0  # next to the name is not touching it


def test_tricky_cases_format_derives_the_phone_core(tmp_path):
    path = tmp_path / "cases.json"
    path.write_text(
        json.dumps(
            [
                {
                    "id": "c1",
                    "text": "电话0086-138-0013-8000",
                    "entities": [{"type": "CN_PHONE", "start": 2, "end": 20, "value": "0086-138-0013-8000"}],
                },
                {"id": "c2", "text": "QQ：123456789", "entities": [{"type": "QQ", "start": 3, "end": 12}]},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    records = load(path)
    assert records[0].entities == (Gold("CN_PHONE", 2, 20, 7, 20),)
    assert records[1].entities[0].type == "QQ"  # kept, but scored for no core type
    assert evaluate(records).scores["CN_PHONE"].recall == 1.0


def test_bad_corpus_names_file_and_line_not_text(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": 1, "text": "13800138000", "entities": []}\n{"text": "13900139000", "entities": '
        '[{"type": "CN_PHONE", "start": 0, "end": 99}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"bad\.jsonl: line 2: .*outside"):
        load(path)
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and not re.search(r"[0-9]{5}", err.replace(str(tmp_path), ""))


def test_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text(
        json.dumps(
            {
                "id": 1,
                "text": "手机13800138000",
                "entities": [{"type": "CN_PHONE", "start": 2, "end": 13, "core_start": 2, "core_end": 13}],
            },
            ensure_ascii=False,
        )
        + "\n"
        + json.dumps(
            {
                "id": 2,
                "text": "附件110105491231002",
                "entities": [
                    {"type": "CN_RESIDENT_ID", "start": 2, "end": 17, "core_start": 2, "core_end": 17}
                ],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    assert main([str(good), "--entities", "CN_PHONE", "--min-precision", "0.99", "--min-recall", "0.99"]) == 0
    assert main([str(good), "--min-recall", "0.99"]) == 1  # a legacy ID without context is missed
    assert main([str(tmp_path / "missing.jsonl")]) == 2
    assert main([str(good), "--entities", "CN_NAME"]) == 2
    capsys.readouterr()


def test_text_is_printed_only_when_misses_are_asked_for(tmp_path, capsys):
    path = tmp_path / "one.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": 1,
                "text": "订单号13800138000",
                "entities": [{"type": "CN_PHONE", "start": 3, "end": 14, "core_start": 3, "core_end": 14}],
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    main([str(path)])
    assert "13800138000" not in capsys.readouterr().out
    main([str(path), "--misses", "5", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["misses"] == [
        {
            "kind": "false_negative",
            "record_id": "1",
            "type": "CN_PHONE",
            "start": 3,
            "end": 14,
            "text": "13800138000",
        }
    ]
    assert summary["types"]["CN_PHONE"]["recall"] == 0.0 and summary["passed"]  # no floor asked


def test_generator_is_seeded_and_splits_share_no_template():
    assert corpus.generate("heldout", count=20) == corpus.generate("heldout", count=20)
    assert corpus.generate("tuning", count=20) != corpus.generate("tuning", count=20, seed=1)
    assert not set(corpus.TUNING_TEMPLATES) & set(corpus.HELDOUT_TEMPLATES)
    for line in corpus.generate("tuning", count=200):
        for e in line["entities"]:
            assert e["start"] <= e["core_start"] < e["core_end"] <= e["end"] <= len(line["text"])


@pytest.mark.parametrize("name", ["heldout.jsonl", "shared_dev.jsonl"])
def test_quality_floor_on_text_the_recognizers_were_not_tuned_on(name):
    report = evaluate(load(CORPORA / name))
    for type_score in report.scores.values():
        assert type_score.gold >= 300, type_score.type
        assert type_score.precision >= 0.99 and type_score.recall >= 0.99, report.failures(0.99, 0.99)
