"""保険証利用登録 at the reader (`register`) and its 解除 (admin API, fixture key) on the virtual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockgateway.app import build_gateway
from mockgateway.card.faceauth import ReaderError
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.control.admin_routes import AdminRequest
from mockgateway.domain.clock import jst
from mockgateway.engine import Format, Gateway
from mockgateway.fixtures import load_paths
from mockgateway.services.eligibility import API_ID
from mockgateway.services.reader import session as face
from mockgateway.wire import xmlcodec
from tests.card.face_gateway import FROZEN_AT, face_gateway
from tests.conftest import body_of, eligibility_request, reply_tree


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = face_gateway(tmp_path / "oqs")
    yield gw
    gw.store.close()


def admin(gateway: Gateway, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
    route = gateway.admin_routes[(method, path.split("?", maxsplit=1)[0])]
    query = dict(part.split("=", 1) for part in path.split("?", 1)[1].split("&")) if "?" in path else {}
    body = b"" if doc is None else orjson.dumps(doc)
    result = route(AdminRequest(method=method, path=path.split("?", maxsplit=1)[0], query=query, body=body))
    assert isinstance(result, tuple)
    return result


def test_unregistered_card_is_m04_without_the_patients_agreement(gateway: Gateway) -> None:
    result = face.place(gateway, "myna-mitouroku")
    assert result.error is ReaderError.NOT_REGISTERED
    assert result.body is None


def test_registering_on_the_reader_continues_the_same_placement(gateway: Gateway, tmp_path: Path) -> None:
    result = face.place(gateway, "myna-mitouroku", register=True, consents=["drug"])
    assert result.ok, result.session.steps
    assert result.session.registered_now
    assert result.body is not None
    assert xmlcodec.text_at(xmlcodec.parse(result.body).tree, "MessageBody", "QualificationValidity") == "1"
    entry = gateway.journal.entries(transport="face")[-1]
    assert entry.extra["face"]["registered_now"] is True
    assert any("保険証利用登録" in step for step in entry.extra["face"]["steps"])
    # the next placement needs no agreement: registered
    assert face.place(gateway, "myna-mitouroku").ok
    # durable: a gateway restarted on the same store still has the registration
    db = gateway.store.path
    gateway.store.close()
    again = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))  # a restart: no reload
    again.clock.set(FROZEN_AT, running=False)
    assert again.store.path == db
    try:
        assert face.place(again, "myna-mitouroku").ok
    finally:
        again.store.close()


def test_register_option_changes_nothing_for_a_registered_card(gateway: Gateway) -> None:
    result = face.place(gateway, "hoken-taro", register=True)
    assert result.ok
    assert not result.session.registered_now


def test_cancellation_by_the_admin_api_takes_effect_after_the_end_of_next_month(gateway: Gateway) -> None:
    status, doc = admin(gateway, "POST", "/admin/cards/cancel-registration", {"person_id": "hoken-taro"})
    assert status == 200
    assert doc["cancel_applied"] == "20261123"
    assert doc["registered_until"] == "20261231"  # 申請受付の翌月末
    assert doc["registered"] is True
    gateway.clock.set(jst(2026, 12, 31, 18, 0, 0), running=False)
    assert face.place(gateway, "hoken-taro").ok  # on the 翌月末 itself the card still works
    gateway.clock.set(jst(2027, 1, 1, 9, 0, 0), running=False)
    refused = face.place(gateway, "hoken-taro")
    assert refused.error is ReaderError.NOT_REGISTERED
    assert "解除" in refused.session.error_detail
    status, card = admin(gateway, "GET", "/admin/cards?id=hoken-taro")
    assert card["registered"] is False
    assert card["registration"]["registered_until"] == "20261231"
    # the person queries by the numbers printed on a 資格確認書: works
    request = eligibility_request(insurer="01139997", symbol="12-34", number="5678", branch="00",
                                  birthdate="19800401", date="20270101")  # fmt: skip
    answer = reply_tree(gateway.process(API_ID, request, fmt=Format.XML, transport="test"))
    assert body_of(answer)["QualificationValidity"] == "1"
    # and may register again at the reader
    assert face.place(gateway, "hoken-taro", register=True).ok
    assert face.place(gateway, "hoken-taro").ok


def test_fixture_cancellation_and_the_kakunin(gateway: Gateway) -> None:
    """kaijo-hideo: 解除 accepted today-10d (20261113) → registered until 20261231; a 資格確認書 from that day."""
    assert face.place(gateway, "kaijo-hideo").ok
    gateway.clock.set(jst(2027, 1, 1, 9, 0, 0), running=False)
    assert face.place(gateway, "kaijo-hideo").error is ReaderError.NOT_REGISTERED
    request = eligibility_request(insurer="01139997", symbol="90-02", number="770002", branch="00",
                                  birthdate="19790320", date="20270101")  # fmt: skip
    answer = reply_tree(gateway.process(API_ID, request, fmt=Format.XML, transport="test"))
    assert body_of(answer)["QualificationValidity"] == "1"


def test_admin_cancellation_with_a_date_and_bad_input(gateway: Gateway) -> None:
    _, doc = admin(gateway, "POST", "/admin/cards/cancel-registration",
                        {"person_id": "hoken-taro", "applied_on": "20261001"})  # fmt: skip
    assert doc["registered_until"] == "20261130"
    assert face.place(gateway, "hoken-taro").ok  # 20261123: still before
    with pytest.raises(ValueError, match="applied_on"):
        admin(gateway, "POST", "/admin/cards/cancel-registration", {"person_id": "hoken-taro", "applied_on": "2026"})
    with pytest.raises(ValueError, match="no such person"):
        admin(gateway, "POST", "/admin/cards/cancel-registration", {"person_id": "nobody"})


def test_a_fixture_reload_starts_the_cards_afresh(gateway: Gateway) -> None:
    assert face.place(gateway, "myna-mitouroku", register=True).ok
    gateway.load(load_paths([DEFAULT_FIXTURES], gateway.clock.today()))
    assert face.place(gateway, "myna-mitouroku").error is ReaderError.NOT_REGISTERED


def test_placement_options_of_the_admin_api_and_the_cli() -> None:
    placement = face.placement_from({"person_id": "myna-mitouroku", "register": "true", "limit_consent": True})
    assert placement.register
    assert placement.limit_consent
    assert placement.as_json()["register"] is True
    assert not face.placement_from({"person_id": "hoken-taro"}).register
    with pytest.raises(ValueError, match="true or false"):
        face.placement_from({"person_id": "hoken-taro", "register": "maybe"})
