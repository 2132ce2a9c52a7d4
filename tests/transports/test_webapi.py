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


def test_the_login_answer_and_a_refusal_have_the_same_keys(gateway: Gateway) -> None:
    api = _api(gateway)
    ok = orjson.loads(api.login(b'{"MedicalInstitutionCode": "1311234569"}').body)
    refused = orjson.loads(api.login(b'"not an object"').body)
    assert set(ok) == {"status", "msg", "result"}
    assert set(refused) == {"status", "msg", "result", "XmlMsg"}
    assert set(ok["result"]) == set(refused["result"]) == {
        "idToken", "accessToken", "refreshToken", "linkSysCharCd", "expiresAt",
    }  # fmt: skip
    assert (ok["status"], refused["status"]) == ("0", "1")
    gateway.settings.link_system_code = "1"
    assert orjson.loads(api.login(b'{"MedicalInstitutionCode": "1311234569"}').body)["result"]["linkSysCharCd"] == "1"


def test_each_host_refuses_the_other_s_route_in_the_interface_s_terms(gateway: Gateway) -> None:
    api = _api(gateway)
    search = api.wrong_host("/oqs-api-pro/MSA01030/ILI01030SV01/search", orjson.dumps(SEARCH))
    login = api.wrong_host("/oqs-api-pro/MSA12020/ILI12020SV01/auth", b"{}")
    assert (search.status, login.status) == (404, 401)
    assert orjson.loads(search.body)["XmlMsg"]["MessageHeader"]["ErrorCode"] == "MGW1122"
    assert orjson.loads(login.body)["XmlMsg"]["MessageHeader"]["ErrorCode"] == "MGW1123"


def _token(api: WebApi) -> str:
    token: str = orjson.loads(api.login(b'{"MedicalInstitutionCode": "1311234569"}').body)["result"]["idToken"]
    return token


def test_a_search_without_institution_code_is_the_token_s(gateway: Gateway) -> None:
    api = _api(gateway)
    body = orjson.loads(orjson.dumps(SEARCH))
    del body["XmlMsg"]["MessageHeader"]["MedicalInstitutionCode"]
    found = api.search(orjson.dumps(body), _token(api))
    assert found.response is not None
    doc = orjson.loads(found.response.body)["XmlMsg"]
    assert doc["MessageHeader"]["MedicalInstitutionCode"] == "1311234569"
    assert doc["MessageBody"]["QualificationValidity"] == "1"
    assert gateway.journal.entries()[-1].medical_institution == "1311234569"
    gateway.settings.webapi_require_institution = True  # serve --webapi-require-institution
    required = api.search(orjson.dumps(body), _token(api))
    assert required.response is not None
    assert orjson.loads(required.response.body)["XmlMsg"]["MessageHeader"]["ErrorCode"] == "MGW1003"
    gateway.settings.webapi_require_institution = False
    # A token always names its 医療機関 (a login without a valid code is refused, below).


KOKUHO = {"XmlMsg": {
    "MessageHeader": {"QualificationConfirmationDate": "20250618"},
    "MessageBody": {"QualificationConfirmSearchInfo": {"InsurerNumber": "00139998", "InsuredCardSymbol": "模擬市",
                    "InsuredIdentificationNumber": "100234", "InsuredBranchNumber": "00", "Birthdate": "19650203"}},
}}  # fmt: skip


def test_zero_padded_six_digit_insurer_numbers_by_default_and_refused_when_strict(gateway: Gateway) -> None:
    api = _api(gateway)
    found = api.search(orjson.dumps(KOKUHO), _token(api))
    assert found.response is not None
    body = orjson.loads(found.response.body)["XmlMsg"]["MessageBody"]
    assert body["QualificationValidity"] == "1"
    assert body["QualificationConfirmSearchInfo"]["InsurerNumber"] == "00139998"  # echoed as sent
    gateway.settings.webapi_zero_padded_insurer = False  # serve --webapi-strict-insurer
    strict = api.search(orjson.dumps(KOKUHO), _token(api))
    assert strict.response is not None
    header = orjson.loads(strict.response.body)["XmlMsg"]["MessageHeader"]
    assert header["SegmentOfResult"] == "9"
    assert "法別番号 00" in header["ErrorMessage"]


def test_files_keep_space_padding_whatever_the_web_api_setting(gateway: Gateway) -> None:
    from mockgateway.engine import Format
    from tests.conftest import eligibility_request

    raw = eligibility_request(insurer="00139998", symbol="模擬市", number="100234", birthdate="19650203")
    answer = gateway.process("OQSsiquc01", raw, fmt=Format.XML, transport="folder")
    assert b"<SegmentOfResult>9</SegmentOfResult>" in answer.body


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
