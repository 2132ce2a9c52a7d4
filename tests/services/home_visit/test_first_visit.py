"""The 居宅 first visit on the reader's `channel`, 資格確認限定型 readings, and the faulted counter reader."""

from __future__ import annotations

from typing import Any

import pytest

from mockgateway.card.faceauth import ReaderError, ReaderResult
from mockgateway.engine import Format, Gateway
from mockgateway.services import home_visit
from mockgateway.services.medical.client import medical_request
from mockgateway.services.medical.service import DRUG_API
from mockgateway.services.reader import session as reader
from mockgateway.services.reader.session import plain_reader_name
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree
from tests.services.home_visit.conftest import MIC, SEJUTSU, body, requery


def place(g: Gateway, person_id: str, **options: Any) -> ReaderResult:
    return reader.place(g, person_id, medical_institution=options.pop("mic", MIC), **options)


def face_result(r: ReaderResult) -> Tree:
    assert r.body is not None, r.as_json()
    node = xmlcodec.parse(r.body).tree["MessageBody"]
    assert isinstance(node, dict)
    results = node["ResultList"]
    assert isinstance(results, dict)
    found = results["ResultOfQualificationConfirmation"]
    assert isinstance(found, dict)
    return found


def drug_code(g: Gateway, pid: str, mic: str = MIC) -> str:
    card = max(g.index.people[pid].qualifications, key=lambda q: q.qualification_date)
    response = g.process(DRUG_API, medical_request(card, medical_institution=mic), fmt=Format.XML, transport="t")
    header = xmlcodec.parse(response.body).tree["MessageHeader"]
    assert isinstance(header, dict)
    return str(header["ResultCode"])


def test_home_visit_with_pin_registers_a_continuing_consent(gateway: Gateway) -> None:
    assert body(requery(gateway, "hoken-taro"))["ProcessingResultCode"] == "MGW2701"
    r = place(gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug", "checkup"], channel="home-visit")
    assert r.ok, r.as_json()
    steps = r.as_json()["steps"]
    assert "consent to 薬剤情報等 asked first" in steps[1]  # consent before identity (seed 002)
    assert any("継続同意 hv-" in s for s in steps)
    assert "00 01" in plain_reader_name("mockgateway Virtual Reader 00 00")
    found = face_result(r)
    assert found["PharmacistsInfoConsFlg"] == "1"
    assert found["PharmacistsInfoAvailableTime"] == "20271123100000"  # the continuing consent's end
    assert found["DiagnosisInfoConsFlg"] == "0"
    # from the second visit: 再照会 without the card, and 医療情報 a day later (past the counter's 24 h)
    assert body(requery(gateway, "hoken-taro"))["ProcessingResultStatus"] == "1"
    gateway.clock.set(gateway.clock.now().replace(day=25), running=False)
    assert drug_code(gateway, "hoken-taro") == "1"


def test_fever_outpatient_keeps_the_counters_24_hours(gateway: Gateway) -> None:
    r = place(gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug"], channel="fever")
    assert r.ok
    assert face_result(r)["PharmacistsInfoAvailableTime"] == "20261124100000"
    assert body(requery(gateway, "hoken-taro"))["ProcessingResultCode"] == "MGW2701"
    assert drug_code(gateway, "hoken-taro") == "1"
    gateway.clock.set(gateway.clock.now().replace(day=25), running=False)
    assert drug_code(gateway, "hoken-taro") == "2"


def test_visual_check_needs_the_issued_passcode(gateway: Gateway) -> None:
    refused = place(gateway, "hoken-taro", mode="visual", consents=["drug"], channel="online")
    assert refused.error is ReaderError.PASSCODE
    assert "発行されていません" in refused.session.error_detail
    issued = home_visit.feature(gateway).issue_passcode(MIC, gateway.clock.now())
    wrong = place(gateway, "hoken-taro", mode="visual", consents=["drug"], channel="online", passcode="000000"
                  if issued.code != "000000" else "111111")  # fmt: skip
    assert wrong.error is ReaderError.PASSCODE
    right = place(gateway, "hoken-taro", mode="visual", consents=["drug"], channel="online", passcode=issued.code)
    assert right.ok, right.as_json()
    assert right.session.method is not None
    assert right.session.method.value == "visual"
    gateway.clock.set(gateway.clock.now().replace(hour=11), running=False)  # 10 minutes by default
    late = place(gateway, "hoken-taro", mode="visual", channel="online", passcode=issued.code)
    assert late.error is ReaderError.PASSCODE


def test_face_authentication_is_not_offered_away_from_the_counter(gateway: Gateway) -> None:
    with pytest.raises(ValueError, match="PIN or 目視確認"):
        place(gateway, "hoken-taro", mode="face", channel="home-visit")


def test_a_limited_institution_cannot_take_a_home_visit_channel(gateway: Gateway) -> None:
    r = place(gateway, "sejutsu-kenta", mode="pin", pins=["1111"], channel="home-visit", mic=SEJUTSU)
    assert r.error is ReaderError.CHANNEL
    assert "施術所" in r.session.error_detail


def test_limited_reading_is_eligibility_only(gateway: Gateway) -> None:
    r = place(gateway, "sejutsu-kenta", mode="pin", pins=["1111"], consents=["drug"], channel="limited", mic=SEJUTSU)
    assert r.ok, r.as_json()
    assert r.as_json()["consents_given"] == []
    assert any("資格確認限定型" in s for s in r.as_json()["steps"])
    found = face_result(r)
    assert found["Name"] == "施術　健太"
    assert found["PharmacistsInfoConsFlg"] == "0"


def test_a_faulted_counter_reader_sends_reception_to_the_home_visit_flow(gateway: Gateway) -> None:
    routes = gateway.admin_routes
    from mockgateway.control.admin_routes import AdminRequest

    status, doc = routes[("POST", "/admin/home-visit/reader-fault")](
        AdminRequest("POST", "/admin/home-visit/reader-fault", {}, b'{"medical_institution": "1310112345"}')
    )
    assert status == 200
    assert doc == {"faulted": ["1310112345"]}
    counter = place(gateway, "hoken-taro", mode="face", consents=["drug"])
    assert counter.error is ReaderError.READER_FAULT
    fallback = place(gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug"], channel="fever")
    assert fallback.ok
    assert drug_code(gateway, "hoken-taro") == "1"


def test_every_reader_error_has_a_result_code_for_error_files(gateway: Gateway) -> None:
    from mockgateway.domain.codes import DEFAULT_RESULT_CODES

    assert all(e.code_name in DEFAULT_RESULT_CODES for e in ReaderError)
    reader.feature(gateway).update_settings({"error_files": True})
    home_visit.first_visit.FirstVisit(gateway, home_visit.feature(gateway)).set_fault(MIC, True)
    r = place(gateway, "hoken-taro", mode="face")
    assert r.error is ReaderError.READER_FAULT
    assert r.body is not None
    assert b"MGW1307" in r.body
