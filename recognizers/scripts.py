"""Traditional characters read as simplified ones, so that the finders read 陳大文 as 陈大文.

Customers in Hong Kong, Macau and Taiwan, and systems that keep what they were given, write names and
addresses in traditional characters: `客戶陳建國`, `聯繫人：盧濤`. The surnames, labels and divisions
the finders know are simplified. `simplified` rewrites a batch's traditional characters as their
simplified forms, from OpenCC's character table (Apache-2.0, read from the installed
opencc-python-reimplemented package, which is never imported). Only characters the table does not
list as simplified ones are rewritten, and only where both forms take three bytes in UTF-8: the
rewritten text keeps every byte offset, so a span found in it is the span in the text as written. A
name or an address found there keeps the value it is written with (its token and fake do not change,
and 乾 and 干 stay two characters).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from recognizers.arrays import utf8_buffer
from recognizers.building import built_once
from recognizers.name_odds import package_file
from recognizers.patterns import matches


def _pairs(name: str) -> dict[str, str]:
    """A character table of OpenCC's: each character to its first counterpart."""
    pairs = {}
    with package_file("opencc", "dictionary", name).open(encoding="utf-8") as lines:
        for line in lines:
            source, _, targets = line.rstrip("\n").partition("\t")
            pairs[source] = targets.split(" ")[0]
    return pairs


def _three_bytes(character: str) -> bool:
    return len(character) == 1 and len(character.encode()) == 3


@built_once
def _table() -> tuple[dict[int, int], str]:
    """Traditional to simplified, for characters that are no simplified character themselves, and the
    RE2 class of those characters."""
    simplified_ones = set(_pairs("STCharacters.txt"))
    table = {ord(traditional): ord(simple) for traditional, simple in _pairs("TSCharacters.txt").items()
             if traditional != simple and traditional not in simplified_ones
             and _three_bytes(traditional) and _three_bytes(simple)}
    return table, "[" + "".join(sorted(map(chr, table))) + "]"


def simplified(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """`values` with their traditional characters written as simplified ones (byte offsets unchanged),
    and the rows that held one."""
    table, traditional = _table()
    wide = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(values), True).to_numpy(zero_copy_only=False))
    rows = wide[matches(values.take(pa.array(wide)), traditional)] if len(wide) else wide
    if not len(rows):
        return values, rows
    data, offsets = utf8_buffer(values)
    rewritten = data.tobytes().decode().translate(table).encode()
    result = pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets.astype(np.int32).tobytes()),
                                         pa.py_buffer(rewritten))
    if values.null_count:
        result = pc.if_else(pc.is_valid(values), result, pa.scalar(None, pa.string()))
    return result, rows
