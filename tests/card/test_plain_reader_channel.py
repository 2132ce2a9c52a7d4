"""Away from the counter the card is read through pcscd's plain reader slot (`… 00 01`), as a
vendor's マイナ資格確認アプリ talking PC/SC finds it (docs/limited.md, docs/home-visit.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.app import build_gateway
from mockgateway.card.pcscd import PrivatePcscd
from mockgateway.card.reader import PcscSlot
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.engine import Gateway
from mockgateway.fixtures import load_paths
from mockgateway.services.reader import session as reader


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    g.clock.set(jst(2026, 11, 23, 10, 0), running=False)
    g.load(load_paths([DEFAULT_FIXTURES], g.clock.today()))
    yield g
    g.store.close()


@pytest.mark.pcscd
def test_limited_and_home_visit_readings_use_the_plain_slot(gateway: Gateway, pcscd: PrivatePcscd) -> None:
    face = reader.feature(gateway)
    used: list[str] = []

    def plain() -> PcscSlot:
        slot = PcscSlot(pcscd.port(1), pcscd.plain_reader)
        used.append(slot.name)
        return slot

    face.plain_slot_factory = plain
    face.slot_factory = lambda: pytest.fail("the face-auth reader was used away from the counter")  # type: ignore[assignment,return-value]
    r = reader.place(gateway, "sejutsu-kenta", mode="pin", pins=["1111"], channel="limited",
                     medical_institution="1370000018")  # fmt: skip
    assert r.ok, r.as_json()
    assert used == [pcscd.plain_reader]
    assert any(pcscd.plain_reader in s for s in r.as_json()["steps"])
    r = reader.place(gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug"], channel="home-visit")
    assert r.ok, r.as_json()
    assert r.as_json()["consents_given"] == ["PharmacistsInfo"]
