"""Tables a process builds once, whichever threads ask for them first."""

from __future__ import annotations

import threading
import time

from recognizers.building import built_once


def test_a_table_two_threads_ask_for_at_once_is_built_once() -> None:
    builds = []
    release = threading.Event()

    @built_once
    def table(size: int) -> list[int]:
        builds.append(size)
        release.wait(5)
        return list(range(size))

    first = threading.Thread(target=table, args=(3,))
    first.start()
    while not builds:  # the first thread is building
        time.sleep(0.001)
    second = threading.Thread(target=table, args=(3,))
    second.start()
    time.sleep(0.2)  # before, the second thread built the table again meanwhile
    release.set()
    first.join()
    second.join()
    assert builds == [3]
    assert table(3) == [0, 1, 2] and table(2) == [0, 1] and builds == [3, 2] and table.builds() == 2
