"""mockgateway/gc_pauses.py: what survives is frozen out of the collector's scans; cycles frozen with
it are collected by the periodic full pass."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from mockgateway.gc_pauses import GcPauses


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_a_tick_freezes_what_survives() -> None:
    keep = [Node() for _ in range(1000)]
    before = gc.get_freeze_count()
    GcPauses(full_every=0).tick()
    assert gc.get_freeze_count() >= before + len(keep)


def test_a_frozen_cycle_waits_for_the_full_pass() -> None:
    now = [0.0]
    pauses = GcPauses(full_every=3600, clock=lambda: now[0])
    a, b = Node(), Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    pauses.tick()  # the cycle is frozen while still referenced
    del a, b
    gc.collect()
    assert alive() is not None  # frozen: a normal collection does not see it
    now[0] = 3599.0
    pauses.tick()
    assert alive() is not None
    now[0] = 3600.0
    pauses.tick()  # the hourly full pass
    assert alive() is None
    assert (pauses.full_passes, pauses.freezes) == (1, 3)


def test_no_full_pass_when_turned_off() -> None:
    now = [0.0]
    pauses = GcPauses(full_every=0, clock=lambda: now[0])
    now[0] = 10**9
    pauses.tick()
    assert pauses.full_passes == 0
