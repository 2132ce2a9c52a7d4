"""The Web API's login and search decided once for every carrier (transports/webapi.py)."""

from __future__ import annotations

import datetime as dt

import orjson

from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Gateway
from mockgateway.transports.webapi import WebApi, json_mic

SEARCH = {"XmlMsg": {
    "MessageHeader": {"QualificationConfirmationDate": "20250618", "MedicalInstitutionCode": "1311234569"},
    "MessageBody": {"QualificationConfirmSearchInfo": {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001",
                    "InsuredIdentificationNumber": "42", "InsuredBranchNumber": "00", "Birthdate": "19900909"}},
}}  # fmt: skip


def _api(gateway: Gateway) -> WebApi:
    return WebApi(gateway, TokenBook(dt.timedelta(hours=1)), "carrier")


def test_a_login_then_a_search_reaches_the_engine_and_both_are_journalled_under_the_carrier(gateway: Gateway) -> None:
    api = _api(gateway)
    login = api.login(b'{"MedicalInstitutionCode": "1311234569"}')
    assert login.status == 200
    token = orjson.loads(login.body)["result"]["idToken"]
    found = api.search(orjson.dumps(SEARCH), token)
    assert found.response is not None
    assert orjson.loads(found.response.body)["XmlMsg"]["MessageBody"]["QualificationValidity"] == "1"
    assert [(e.transport, e.api_id) for e in gateway.journal.entries()[-2:]] == [
        ("carrier", "auth"),
        ("carrier", "OQSsiquc01"),
    ]


def test_refusals_answer_in_the_interface_s_terms(gateway: Gateway) -> None:
    api = _api(gateway)
    not_json = api.login(b"[1, 2]")
    assert not_json.status == 400
    assert orjson.loads(not_json.body)["XmlMsg"]["MessageHeader"]["SegmentOfResult"] == "9"
    assert api.search(orjson.dumps(SEARCH), "forged").status == 401
    other = orjson.loads(api.login(b'{"MedicalInstitutionCode": "1310112345"}').body)["result"]["idToken"]
    refused = api.search(orjson.dumps(SEARCH), other)
    assert refused.status == 403
    assert refused.response is None
    assert "1310112345" in (gateway.journal.entries()[-1].reason or "")


def test_json_mic_reads_the_header_or_nothing() -> None:
    assert json_mic(orjson.dumps(SEARCH)) == "1311234569"
    assert json_mic(b"not json") is None
    assert json_mic(b'{"XmlMsg": {}}') is None


def test_a_login_needs_a_valid_medical_institution_code(gateway: Gateway) -> None:
    api = _api(gateway)
    for body in (b"{}", b'{"MedicalInstitutionCode": "garbage"}', b'{"MedicalInstitutionCode": "1310199999"}',
                 b'{"MedicalInstitutionCode": null}', b'{"MedicalInstitutionCode": ["1311234569"]}'):  # fmt: skip
        refused = api.login(body)
        assert refused.status == 400, body
        header = orjson.loads(refused.body)["XmlMsg"]["MessageHeader"]
        assert header["ErrorCode"] == "MGW1102"
        assert "MedicalInstitutionCode" in header["ErrorMessage"]


def test_a_token_is_bound_to_its_issue_instant_and_expiry_is_final(gateway: Gateway) -> None:
    api = _api(gateway)
    clock = gateway.clock
    start = clock.now()
    token = orjson.loads(api.login(b'{"MedicalInstitutionCode": "1311234569"}').body)["result"]["idToken"]
    clock.set(start - dt.timedelta(minutes=5), running=False)  # before it was issued
    before = api.search(orjson.dumps(SEARCH), token)
    assert before.status == 401
    assert "発行されました" in (gateway.journal.entries()[-1].reason or "")
    clock.set(start + dt.timedelta(hours=2), running=False)
    assert api.search(orjson.dumps(SEARCH), token).status == 401  # expired
    clock.set(start + dt.timedelta(minutes=30), running=False)  # moved back: no revival
    assert api.search(orjson.dumps(SEARCH), token).status == 401
