"""How much likelier a character is in a personal name than in ordinary words: the evidence for a name
that no word around it points to (`……，张建国表示` has a cue; `张建国在会上说` does not).

Three counts, each read from an installed package (MIT), nothing downloaded:

- surnames and what follows a name: the emission probabilities of jieba's part-of-speech model for the
  first character of a person's name (state `B` of tag `nr`) and of a verb, adverb, conjunction or
  preposition (`VERB_STATES`);
- given names: how often each character occurs in given names, counted by ngender over some 32 million
  characters of real names (its `charfreq.csv`, men's and women's together);
- ordinary text: how often each character occurs in the words of jieba's dictionary that are not names
  (word frequency summed over the characters of the word).

A character's log odds in a role is the logarithm of its share in the role less that of its share in
ordinary text. Surnames that are common characters (`和`, `向`, `万`) get low odds as a surname; given-name
characters (`泽`, `芳`, `彤`) high ones, function characters (`的`, `在`) very low ones.
"""

from __future__ import annotations

import importlib.util
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv

from recognizers.building import built_once

SURNAME, GIVEN, VERB = 0, 1, 2
"""The rows of `log_odds`: a name's first character, any of its given name, and the first character of a
verb or another word that often follows a name (`陈阳搬到`, `周利未接通`, `冯欣和李兵`)."""
VERB_STATES = (("B", "v"), ("S", "v"), ("S", "c"), ("S", "p"), ("S", "d"), ("B", "d"))
"""jieba's states of what follows a name: a verb's first character or a one-character verb, conjunction,
preposition or adverb, and an adverb's first character."""
VERB_MARGIN = 2.0
"""A character whose log odds as the first of a verb (or adverb, conjunction, preposition) exceed its log
odds in a given name by more than this starts what follows a name rather than ending it (`陈阳搬到`)."""
UNSEEN_SHARE = 1e-8
"""The share every character is given on top of its counted one: about one in the given-name counts."""
PLANE = 0x10000
"""Characters beyond the basic plane (rare extension ideographs) get the lowest odds of their role."""


@dataclass(frozen=True)
class Dictionary:
    """jieba's dictionary as columns: each entry's word, frequency and tag, and whether the tag is a
    name's (`nr…`)."""

    words: list[str]
    frequency: np.ndarray
    tags: list[str]
    name: np.ndarray
    length: np.ndarray

    def points(self, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The code points of the chosen words, one after another, and the index of the word of each."""
        index = np.flatnonzero(chosen)
        return code_points_of([self.words[i] for i in index])[0], np.repeat(index, self.length[chosen])


def code_points_of(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of `words`, one after another, and each character's position in its word."""
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    points = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return points, np.arange(len(points)) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def package_file(package: str, *parts: str) -> Path:
    """A data file installed with `package`, found without importing the package: importing jieba or
    ngender loads their own models (a quarter of a second), and only their files are read here."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"{package} is not installed", name=package)
    return Path(next(iter(spec.submodule_search_locations)), *parts)


@built_once
def dictionary() -> Dictionary:
    """jieba's dictionary (`word frequency tag` lines), read once from the installed package by Arrow."""
    columns = {"word": pa.string(), "frequency": pa.int64(), "tag": pa.string()}
    with package_file("jieba", "dict.txt").open("rb") as lines:
        table = csv.read_csv(lines, read_options=csv.ReadOptions(column_names=list(columns)),
                             parse_options=csv.ParseOptions(delimiter=" ", quote_char=False),
                             convert_options=csv.ConvertOptions(column_types=columns))
    words, tags = table.column("word"), table.column("tag")
    return Dictionary(words.to_pylist(), table.column("frequency").to_numpy(), tags.to_pylist(),
                      pc.starts_with(tags, "nr").to_numpy(), pc.utf8_length(words).to_numpy())


@built_once
def log_odds() -> np.ndarray:
    """A (3, `PLANE` + 1) float32 table: the natural log odds of each character as a surname, as a
    character of a given name, and as the start of what follows a name; the last column, for characters
    beyond the plane, holds each role's lowest."""
    words = dictionary()
    points, word = words.points(~words.name)
    ordinary = _log_shares(points, words.frequency[word])
    table = np.empty((3, PLANE + 1), dtype=np.float32)
    table[SURNAME, :PLANE] = _log_shares(*_emitted(("B", "nr"))) - ordinary
    table[GIVEN, :PLANE] = _log_shares(*_given_counts()) - ordinary
    table[VERB, :PLANE] = _log_shares(*_emitted(*VERB_STATES)) - ordinary
    table[:, PLANE] = table[:, :PLANE].min(axis=1)
    return table


def _log_shares(points: Sequence[int] | np.ndarray, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """The log share of each code point in weighted counts, plus `UNSEEN_SHARE`: a character no count has
    seen is rare, not absent, and equally rare in every role (its odds are 0, neither for nor against)."""
    point = np.array(points, dtype=np.int64)
    kept = point < PLANE
    counts = np.bincount(point[kept], np.array(weights, dtype=np.float64)[kept], minlength=PLANE)
    return np.log(counts / counts.sum() + UNSEEN_SHARE)


@built_once
def _emissions() -> dict[tuple[str, str], dict[str, float]]:
    with package_file("jieba", "posseg", "prob_emit.p").open("rb") as model:
        return pickle.load(model)  # jieba's own model file, loaded as jieba loads it


def _emitted(*states: tuple[str, str]) -> tuple[list[int], list[float]]:
    """jieba's emission probabilities of `states` (position, tag), summed, as counts out of a million."""
    emissions = _emissions()
    points: list[int] = []
    counts: list[float] = []
    for state in states:
        singles = [(ord(ch), p) for ch, p in emissions[state].items() if len(ch) == 1]
        points.extend(p for p, _ in singles)
        counts.extend(1e6 * float(np.exp(p)) for _, p in singles)
    return points, counts


def _given_counts() -> tuple[np.ndarray, np.ndarray]:
    """ngender's count of each character in given names (`char,male,female`), men's and women's added."""
    with package_file("ngender", "charfreq.csv").open("rb") as rows:
        table = csv.read_csv(rows, convert_options=csv.ConvertOptions(
            column_types={"char": pa.string(), "male": pa.float64(), "female": pa.float64()}))
    single = pc.equal(pc.utf8_length(table.column("char")), 1)
    table = table.filter(single)
    points = np.array([ord(ch) for ch in table.column("char").to_pylist()], dtype=np.int64)
    return points, (table.column("male").to_numpy() + table.column("female").to_numpy())


def odds(points: np.ndarray, role: int) -> np.ndarray:
    """The log odds of code points (any integer array) in `role`."""
    return log_odds()[role][np.minimum(points, PLANE)]
