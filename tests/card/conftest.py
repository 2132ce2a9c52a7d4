"""Fixtures for the card tests.

Unit tests use `authority` / `make_state` (no reader). Reader tests (marked ``pcscd``) use the
session-scoped `pcscd` fixture, which starts one private pcscd with its own reader.conf
directory and stops it by PID; when pcscd, the vpcd driver or pyscard is missing, those tests
skip with the precise reason.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mockgateway.card.authority import CardAuthority
from mockgateway.card.keys import KeyCache
from mockgateway.card.model import CardModel
from mockgateway.card.pcscd import PrivatePcscd, pcscd_unavailable_reason, wait_for_card_state
from mockgateway.card.profile import MYNUMBER_PROFILE, CardProfile, CardState, synthetic_card
from mockgateway.card.vpcd import VirtualCardSlot

KEY_CACHE_ENV = "MOCKGATEWAY_CARD_KEY_CACHE"


@pytest.fixture(scope="session")
def key_cache(tmp_path_factory: pytest.TempPathFactory) -> KeyCache:
    # RSA generation is the slow part of these tests; a persistent directory can be given.
    directory = os.environ.get(KEY_CACHE_ENV) or tmp_path_factory.mktemp("card-keys")
    return KeyCache(Path(directory))


@pytest.fixture(scope="session")
def authority(key_cache: KeyCache) -> CardAuthority:
    return CardAuthority.create(key_cache=key_cache, seed=1)


@pytest.fixture
def make_state(authority: CardAuthority) -> Callable[..., CardState]:
    """Fresh `CardState`s for synthetic person `index` (keys reused from the cache)."""

    def make(index: int = 0, profile: CardProfile = MYNUMBER_PROFILE) -> CardState:
        return synthetic_card(authority, index, profile=profile)

    return make


@pytest.fixture
def state(make_state: Callable[..., CardState]) -> CardState:
    return make_state(0)


# --- pcscd ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePcscd]:
    reason = pcscd_unavailable_reason(require_pyscard=True)
    if reason is not None:
        pytest.skip(reason)
    daemon = PrivatePcscd(tmp_path_factory.mktemp("pcscd"))
    daemon.start()
    try:
        yield daemon
    finally:
        gc.collect()  # release stray pyscard contexts while the daemon still answers
        daemon.stop()


InsertCard = Callable[..., str]


@pytest.fixture
def insert_card(pcscd: PrivatePcscd) -> Iterator[InsertCard]:
    """`insert_card(card, slot=0)` puts a card model in a reader and waits until pcscd sees it.

    Returns the reader name. At teardown every card is removed and the test waits until pcscd
    reports the readers empty, so the next test starts from a known reader state.
    """
    slots: dict[int, VirtualCardSlot] = {}

    def insert(card: CardModel, slot: int = 0) -> str:
        vslot = slots.setdefault(slot, VirtualCardSlot(pcscd.port(slot)))
        vslot.insert(card)
        wait_for_card_state(pcscd.reader_name(slot), present=True)
        return pcscd.reader_name(slot)

    try:
        yield insert
    finally:
        gc.collect()  # pyscard connections the test did not release, while pcscd is up
        for n, vslot in slots.items():
            vslot.remove()
            wait_for_card_state(pcscd.reader_name(n), present=False)
        for vslot in slots.values():
            assert not vslot.errors, f"card model raised inside the vpcd bridge: {vslot.errors!r}"
