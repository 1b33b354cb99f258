"""The shared/exclusive lock of the live matcher."""

from __future__ import annotations

import threading
import time

import pytest

from matcher.rwlock import SharedLock


def test_readers_share_and_a_writer_waits_for_them():
    lock, order = SharedLock(), []
    both = threading.Barrier(2, timeout=5)

    def reader(name: str) -> None:
        with lock.shared():
            both.wait()  # only passes if both readers are inside at once
            time.sleep(0.2)
            order.append(name)

    readers = [threading.Thread(target=reader, args=(n,)) for n in "ab"]
    for t in readers:
        t.start()
    time.sleep(0.05)

    def writer() -> None:
        with lock.exclusive():
            order.append("w")

    w = threading.Thread(target=writer)
    w.start()
    for t in [*readers, w]:
        t.join(5)
    assert sorted(order[:2]) == ["a", "b"] and order[2] == "w"


def test_a_waiting_writer_goes_before_new_readers_but_nested_reads_pass():
    lock, order = SharedLock(), []
    inside, go = threading.Event(), threading.Event()

    def first_reader() -> None:
        with lock.shared():
            inside.set()
            go.wait(5)
            with lock.shared():  # nested while the writer waits: must not deadlock
                order.append("nested")

    def writer() -> None:
        with lock.exclusive():
            order.append("w")

    def late_reader() -> None:
        with lock.shared():
            order.append("late")

    r = threading.Thread(target=first_reader)
    r.start()
    assert inside.wait(5)
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.1)
    late = threading.Thread(target=late_reader)
    late.start()
    time.sleep(0.1)
    assert order == []  # the late reader waits behind the writer
    go.set()
    for t in (r, w, late):
        t.join(5)
    assert order == ["nested", "w", "late"]


def test_writer_reenters_and_may_read_but_readers_cannot_upgrade():
    lock = SharedLock()
    with lock.exclusive(), lock.exclusive(), lock.shared():
        pass
    with lock.shared(), pytest.raises(RuntimeError), lock.exclusive():
        pass
    done = threading.Event()

    def other() -> None:
        with lock.exclusive():
            done.set()

    t = threading.Thread(target=other)
    t.start()
    t.join(5)
    assert done.is_set()  # nothing was left held
