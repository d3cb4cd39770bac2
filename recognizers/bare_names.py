"""Names with nothing around them (`张建国在会上说`, `已电话告知刘芳`): found by their characters alone.

Every surname in a batch starts a candidate of one or two given characters. A candidate is a name when
the mean log odds of its characters being a name's (`name_odds`: the surname's, each given character's)
reach `BARE_ODDS`, and it makes no dictionary word with the character before it or within itself, holds no
function character, and is no relation, title, place or the start of one. Whether the second given
character belongs to the name is decided by its odds as a name's and as the start of a verb, and by the
word it would make with the next character. Two halves of a Tibetan or Mongolian name in a row
(`扎西顿珠`) and Mongolian names of one word (`其其格`) are a name wherever they stand. Everything is
decided on the batch's code points at once, with no pattern per candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from recognizers.name_odds import GIVEN, SURNAME, VERB, VERB_MARGIN, odds
from recognizers.name_words import (
    WIDTH,
    Characters,
    form_of_address,
    inside_long_word,
    is_han,
    keys_at,
    listed_minority_names,
    member,
    overlapping_division,
    relation_or_place,
    run_keys,
    starts,
)
from recognizers.patterns import first_by_priority

BARE_ODDS = 1.0
"""A bare name (no cue around it) is reported when its characters' mean log odds of being a name's
(`name_odds`) are at least this."""

LAST_ODDS = -4.0
"""A bare name's third character belongs to it when its log odds as a name's last character are at least
this (after `JOINED_PENALTY`)."""

BRAND = "牌"
"""What follows a brand's name (`李宁牌`), never a person's."""
SIGNATURE = "【】"
"""The brackets around a text message's sender (`【安逸花】尊敬的客户`): an app or company, not a person."""
SHORTER_MARGIN = 4.0
"""Of a candidate that is a name with one and with two given characters, the one-character reading is
taken when its log odds summed exceed the other's by more than this."""
JOINED_PENALTY = 2.0
"""Log odds taken off a bare name whose last character makes a frequent word with the next one
(`张明天` before `天气`); where the name with one given character fewer is a name too, that one is taken."""


def bare_names(text: Characters, stops: np.ndarray) -> tuple[np.ndarray, ...]:
    """The bare names of a batch, none overlapping another: value row, start and end byte of each. The
    characters at `stops` (indices into `text.point`) are read as if their value ended there: no bare name
    holds one or reads past it. The characters of a name found otherwise are stops, and so is the surname
    a masked name shows: a bare name beside either is judged alike before and after that name is masked."""
    point = text.point.copy()
    point[stops] = 0
    text = replace(text, point=point)
    at = np.flatnonzero(starts(text.point, "surnames") | starts(text.point, "compound"))
    compound = member(run_keys(text.point, at, 2), "compound")
    # The first character of a compound surname starts a name alone only if it is a surname itself (`太史`
    # is one, `太` is none: `价格太贵`).
    single = compound | member(text.point[at], "surnames")
    at, compound = at[single], compound[single]
    # Most surname characters stand in ordinary words with characters unlikely in a name: the odds of the
    # surname and the next two characters, before any penalty, already rule them out.
    surname = 1 + compound.astype(np.int64)
    first, second = _around(text, at, surname), _around(text, at, surname + 1)
    best = np.maximum(odds(text.point[at], SURNAME), np.where(compound, np.inf, -np.inf))
    best = np.maximum((best + odds(first, GIVEN)) / 2, (best + odds(first, GIVEN) + odds(second, GIVEN)) / 3)
    at, surname = at[best >= BARE_ODDS], surname[best >= BARE_ODDS]
    chars = np.stack([_around(text, at, shift) for shift in range(WIDTH + 1)], axis=1)
    judged = _judged(chars, _around(text, at, -1), surname)
    # Both readings names: the shorter wins when its odds add up to clearly more (`陈婷发送`: 陈婷), or when
    # the second given character makes a frequent word with the next (`潘悦金融`: 潘悦).
    shorter = judged.long & judged.short & (
        (judged.short_odds > judged.long_odds + SHORTER_MARGIN) | judged.joined)
    two = judged.two_given & ~shorter
    size = np.where(two, judged.long * (surname + 2), judged.short * (surname + 1))
    named = np.flatnonzero(size > 0)
    named = named[~inside_long_word(text, at[named], size[named])]
    named = named[~overlapping_division(text, at[named], size[named])]
    at, size, surname = at[named], size[named], surname[named]
    total = np.where(size == surname + 2, judged.long_odds[named], judged.short_odds[named])
    short = judged.short[named]
    # Of two overlapping candidates (in value and start order) the later wins when its odds add up to more
    # (`和李兵`: 李兵); the earlier then keeps one given character if the later starts on its second and one
    # is a name too (`冯欣和李兵`: 冯欣), else it goes.
    row = text.value[at]
    outdone = np.zeros(len(at), dtype=bool)
    outdone[:-1] = (row[1:] == row[:-1]) & (at[1:] < at[:-1] + size[:-1]) & (total[1:] > total[:-1])
    shortened = outdone & (size == surname + 2) & short
    shortened[:-1] &= at[1:] == at[:-1] + size[:-1] - 1
    size = np.where(shortened, size - 1, size)
    at, size, row = at[~outdone | shortened], size[~outdone | shortened], row[~outdone | shortened]
    start = text.at[at] - text.offsets[row]
    last = at + size - 1
    end = text.at[last] + text.width[last] - text.offsets[row]
    # Then the earlier stays (`豆桂芳`, not 桂芳), and a candidate overlapping only one that lost is kept.
    alone = np.sort(first_by_priority(row, start, end, start))
    return row[alone], start[alone], end[alone]


def _around(text: Characters, at: np.ndarray, shift: int | np.ndarray) -> np.ndarray:
    """The code point `shift` characters from each of `at`, 0 outside its value."""
    index = np.clip(at + shift, 0, max(len(text.point) - 1, 0))
    inside = (at + shift >= 0) & (at + shift < len(text.point))
    return np.where(inside & (text.value[index] == text.value[at]), text.point[index], 0)


@dataclass(frozen=True)
class _Judged:
    """What `_judged` says of candidates: whether a second given character is read (`two_given`) and
    whether it makes a frequent word with the next (`joined`), whether the name with two given characters
    (`long`) and with one (`short`) is a name, and their log odds summed."""

    two_given: np.ndarray
    joined: np.ndarray
    long: np.ndarray
    short: np.ndarray
    long_odds: np.ndarray
    short_odds: np.ndarray


def _judged(chars: np.ndarray, before: np.ndarray, surname: np.ndarray) -> _Judged:
    """Candidates that start with a surname (`surname` characters long) and go on as the rows of `chars`,
    `before` being the character before each, judged as names of one and of two given characters."""
    rows = np.arange(len(chars))
    han = is_han(chars)

    def at(offset: np.ndarray) -> np.ndarray:
        return chars[rows, np.minimum(offset, WIDTH)]

    head, first, second = chars[:, 0], at(surname), at(surname + 1)
    third, fourth = at(surname + 2), at(surname + 3)
    with_first = keys_at(chars, 0, surname + 1)
    one = (han[rows, surname] & ~member(first, "function") & ~member(with_first, "words")
           & ~member(with_first, "famous_words") & ~member(before | (head << 21), "any_words"))
    word = member(keys_at(chars, 0, surname + 2), "not_after_strong")  # `周恩来` is listed as a word
    two = one & ~word & han[rows, np.minimum(surname + 1, WIDTH)] & (surname + 1 < WIDTH)
    two &= ~member(second, "function")
    surname_odds = np.where(surname == 2, np.maximum(odds(head, SURNAME), odds(chars[:, 1], SURNAME)),
                            odds(head, SURNAME))  # a compound surname: the likelier of its characters
    # The last character makes a word with the next, which does not start one itself (`江泽民主席` keeps 民).
    joined_one = (member(first | (second << 21), "frequent_words")
                  & ~member(second | (third << 21), "words")) * JOINED_PENALTY
    joined_two = ((member(second | (third << 21), "frequent_words")
                   & ~member(third | (fourth << 21), "words"))
                  | member(second | (third << 21) | (fourth << 42), "words")) * JOINED_PENALTY  # `王婷医药费`
    two &= ~member(second | (third << 21), "after_name")  # `王怡三人`, `王莉之子`
    two &= odds(second, GIVEN) - joined_two >= LAST_ODDS
    two &= odds(second, VERB) - odds(second, GIVEN) <= VERB_MARGIN  # `陈阳搬到`: 搬 starts a verb
    mean_two = (surname_odds + odds(first, GIVEN) + odds(second, GIVEN)) / 3 - joined_two
    mean_one = (surname_odds + odds(first, GIVEN)) / 2 - joined_one

    def named(size: np.ndarray, mean: np.ndarray, possible: np.ndarray) -> np.ndarray:
        keep = possible & (mean >= BARE_ODDS) & ~word & ~relation_or_place(chars, surname, size)
        keep &= ~member(keys_at(chars, surname, 2), "titles") & ~form_of_address(head, first, size - surname)
        keep &= ~member(keys_at(chars, 0, size), "places")
        following = chars[rows, np.minimum(size, WIDTH)]
        keep &= following != ord(BRAND)  # `李宁牌运动鞋`
        keep &= ~((before == ord(SIGNATURE[0])) & (following == ord(SIGNATURE[1])))  # `【安逸花】`: a sender
        keep &= ~member(before, "familiar")  # `老孙代签`, `小冯代为接听`: a surname and what follows it
        return keep & ~member(before | (keys_at(chars, 0, 2) << 21), "places")  # in a place: `呼和浩特`

    return _Judged(two, joined_two > 0, named(surname + 2, mean_two, two), named(surname + 1, mean_one, one),
                   3 * mean_two, 2 * mean_one)


def minority_names(text: Characters) -> tuple[np.ndarray, ...]:
    """Tibetan and Mongolian names without a dot: two `MINORITY_NAME_PARTS` in a row, and the
    `MINORITY_NAMES` of one word: row, start and end byte."""
    at = np.flatnonzero(starts(text.point, "minority_parts"))
    at = at[member(run_keys(text.point, at, 2), "minority_parts")]  # a part's second is never the last
    at = at[np.isin(at + 2, at)]
    at = at[text.value[at] == text.value[at + 3]]
    whole, length = listed_minority_names(text)
    at, last = np.concatenate([at, whole]), np.concatenate([at + 3, whole + length - 1])
    order = np.argsort(at, kind="stable")
    at, last = at[order], last[order]
    # Two in a row are one person's (`额尔敦毕力格`, `宝音德力格尔`).
    joined = np.flatnonzero((at[1:] == last[:-1] + 1) & (text.value[at[1:]] == text.value[last[:-1]]))
    last[joined] = last[joined + 1]
    keep = np.ones(len(at), dtype=bool)
    keep[joined + 1] = False
    at, last = at[keep], last[keep]
    row = text.value[at]
    return row, text.at[at] - text.offsets[row], text.at[last] + text.width[last] - text.offsets[row]
