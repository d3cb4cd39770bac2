"""The byte-level helpers the engine and the transform work with."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from recognizers.arrays import gather, prefix_bytes, ranges, utf8_buffer


def _sliced(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> pa.Array:
    cut = [bytes(data[s : s + n]).decode() for s, n in zip(starts, lengths, strict=True)]
    return pa.array(cut, pa.string())


def test_gather_cuts_ranges_in_any_order_overlapping_or_not():
    """Sorted disjoint ranges take one cut; overlapping ones (windows before numbers close together),
    repeated and unsorted ones go round again and still come back in the order asked for."""
    rng = np.random.default_rng(5)
    data = rng.integers(ord("a"), ord("z") + 1, 4_000, dtype=np.uint8)
    for trial in range(300):
        count = int(rng.integers(0, 40))
        starts, lengths = rng.integers(0, 3_900, count), rng.integers(0, 90, count)
        if trial % 3 == 0:
            starts = np.sort(starts)
        if trial % 5 == 0 and count:
            starts[-1], lengths[-1] = starts[0], lengths[0]  # the same range twice
        assert gather(data, starts, lengths).equals(_sliced(data, starts, lengths)), trial


def test_gather_keeps_multibyte_characters_whole():
    data = np.frombuffer("借款人张三，电话13812345678".encode(), np.uint8)
    cut = gather(data, np.array([15, 0, 9]), np.array([9, 9, 6]))
    assert cut.to_pylist() == ["，电话", "借款人", "张三"]


def test_prefix_bytes_end_on_a_character_and_before_the_limit():
    values = pa.array(["ab中文字", "中国工商银行", "x"])
    data, offsets = utf8_buffer(values)
    cut = prefix_bytes(data, offsets[:-1], offsets[1:], np.array([4, 7, 5]))
    assert cut.to_pylist() == ["ab", "中国", "x"]  # 4 and 7 bytes cut a character: it is left out
    assert prefix_bytes(data, offsets[:-1], offsets[1:], 6).to_pylist() == ["ab中", "中国", "x"]


def test_ranges_lay_each_range_out_in_turn():
    starts, counts = np.array([5, 0, 9, 2]), np.array([3, 0, 1, 2])
    assert ranges(starts, counts).tolist() == [5, 6, 7, 9, 2, 3]
    assert ranges(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []
