"""救急時 (OQS-IF-047/048): flag 3 consents open medical information for a patient who cannot consent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from mockgateway.app import build_gateway
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.control.admin_routes import AdminRequest
from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import ConsentKind
from mockgateway.engine import Format, Gateway
from mockgateway.fixtures import load_paths
from mockgateway.services.medical.client import medical_request
from mockgateway.services.medical.emergency import is_emergency, record_emergency
from mockgateway.services.medical.service import CHECKUP_API, DRUG_API
from mockgateway.wire import xmlcodec

MIC = "1310112345"


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    g.clock.set(jst(2026, 11, 23, 3, 0), running=False)
    g.load(load_paths([DEFAULT_FIXTURES], g.clock.today()))
    yield g
    g.store.close()


def result_code(g: Gateway, api: str, pid: str = "kokuho-ichiro") -> tuple[str, dict[str, object]]:
    card = g.index.people[pid].qualifications[0]
    response = g.process(api, medical_request(card, medical_institution=MIC), fmt=Format.XML, transport="t")
    header = xmlcodec.parse(response.body).tree["MessageHeader"]
    assert isinstance(header, dict)
    return str(header["ResultCode"]), response.entry.extra["medical"]


def test_flag_3_for_every_kind(gateway: Gateway) -> None:
    recorded = record_emergency(gateway.consents, "kokuho-ichiro", MIC, gateway.clock.now())
    assert {c.kind for c in recorded} == set(ConsentKind)
    assert all(c.flag is ConsentFlag.UNOBTAINABLE and is_emergency(c) for c in recorded)
    for api in (DRUG_API, CHECKUP_API):
        code, facts = result_code(gateway, api)
        assert code == "1"
        assert facts["emergency"] is True


def test_the_emergency_window_is_24_hours_and_this_institution_only(gateway: Gateway) -> None:
    record_emergency(gateway.consents, "kokuho-ichiro", "1310110018", gateway.clock.now())
    assert result_code(gateway, DRUG_API)[0] == "2"
    record_emergency(gateway.consents, "kokuho-ichiro", MIC, gateway.clock.now())
    gateway.clock.advance(dt.timedelta(hours=24))
    code, facts = result_code(gateway, DRUG_API)
    assert code == "2"
    assert facts["refused"] == "medical.consent_expired"


def test_admin_route_records_an_emergency(gateway: Gateway) -> None:
    handler = gateway.admin_routes[("POST", "/admin/medical/emergency")]
    body = orjson.dumps({"person_id": "kokuho-ichiro", "medical_institution": MIC})
    status, answer = handler(AdminRequest("POST", "/admin/medical/emergency", {}, body))
    assert status == 201
    assert {c["flag"] for c in answer["recorded"]} == {"3"}
    assert result_code(gateway, DRUG_API)[1]["emergency"] is True
    with pytest.raises(ValueError, match="no such person"):
        handler(AdminRequest("POST", "/admin/medical/emergency", {}, b'{"person_id": "nobody"}'))


def test_an_ordinary_consent_is_not_an_emergency(gateway: Gateway) -> None:
    handler = gateway.admin_routes[("POST", "/admin/medical/consents")]
    body = orjson.dumps({"person_id": "kokuho-ichiro", "medical_institution": MIC, "kinds": ["drug"]})
    assert handler(AdminRequest("POST", "/admin/medical/consents", {}, body))[0] == 201
    code, facts = result_code(gateway, DRUG_API)
    assert code == "1"
    assert "emergency" not in facts
