"""災害時医療情報閲覧: declarations, the area of a 医療機関, the admin routes, and MGWdsquc01."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pypdf import PdfReader

from mockgateway.app import build_gateway
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.control.admin_routes import AdminRequest
from mockgateway.domain.clock import jst
from mockgateway.domain.numbers import MedicalInstitutionCode
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_paths
from mockgateway.services.medical.client import card_search, disaster_request
from mockgateway.services.medical.disaster import API_ID, disaster_book
from mockgateway.services.medical.disaster_book import Area, Declaration, Place, decide, parse_moment
from mockgateway.wire import xmlcodec

NOW = jst(2026, 11, 23, 10, 0)
ISHIKAWA = "1710110014"  # 石川県, 医科
ISHIKAWA_PHARMACY = "1740110018"
TOKYO = "1310112345"
TARO = {"Name": "保険　太郎", "Birthdate": "19800401", "Sex": "1", "InsurerName": "協会"}


# -- areas and declarations (no gateway) --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("石川県", Area(17)),
        ("17", Area(17)),
        ("石川県 輪島市", Area(17, "輪島市")),
        ({"prefecture": "富山県", "municipality": "高岡市"}, Area(16, "高岡市")),
        ("北海道札幌市", Area(1, "札幌市")),
    ],
)
def test_areas_are_a_prefecture_or_one_municipality(raw: object, expected: Area) -> None:
    assert Area.parse(raw) == expected


@pytest.mark.parametrize("raw", ["輪島市", "48", "Ishikawa"])
def test_an_area_without_its_prefecture_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="prefecture"):
        Area.parse(raw)


def test_moments_of_a_whole_day_include_the_end_day() -> None:
    assert parse_moment("20261120") == jst(2026, 11, 20)
    assert parse_moment("20261130", end=True) == jst(2026, 12, 1)
    assert parse_moment("20261130120000", end=True) == jst(2026, 11, 30, 12)


def declaration(areas: tuple[Area, ...] = (Area(17),), **kw: Any) -> Declaration:
    return Declaration("D0001", "模擬地震", areas, jst(2026, 11, 20), jst(2026, 12, 1), **kw)


@pytest.mark.parametrize(
    ("place", "now", "code"),
    [
        (Place(ISHIKAWA, 17, None), NOW, None),
        (Place(TOKYO, 13, None), NOW, "disaster.outside"),
        (Place(ISHIKAWA, 17, None), jst(2026, 11, 19, 23, 59), "disaster.not_started"),
        (Place(ISHIKAWA, 17, None), jst(2026, 12, 1), "disaster.ended"),
    ],
)
def test_decide_says_which_declaration_or_why_not(place: Place, now: Any, code: str | None) -> None:
    relied, refusal = decide([declaration()], place, now)
    assert (refusal.code_name if refusal else None) == code
    if code in (None, "disaster.not_started", "disaster.ended"):
        assert relied is not None
        assert relied.id == "D0001"


def test_a_municipality_declaration_needs_the_registered_municipality() -> None:
    city = declaration((Area(17, "輪島市"),))
    assert decide([city], Place(ISHIKAWA, 17, "輪島市"), NOW)[1] is None
    refusal = decide([city], Place(ISHIKAWA, 17, None), NOW)[1]
    assert refusal is not None
    assert "市区町村未登録" in refusal.detail
    assert decide([city], Place(ISHIKAWA, 17, "金沢市"), NOW)[1] is not None


def test_a_closed_declaration_ends_at_the_closing() -> None:
    closed = declaration(closed_at=jst(2026, 11, 22))
    refusal = decide([closed], Place(ISHIKAWA, 17, None), NOW)[1]
    assert refusal is not None
    assert "閉塞されました" in refusal.detail
    assert decide([], Place(ISHIKAWA, 17, None), NOW)[1] is not None


# -- through the gateway --------------------------------------------------------------------------


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    g = build_gateway(Config(root=tmp_path / "oqs", fixtures=[], tls_port=None))
    g.clock.set(NOW, running=False)
    g.load(load_paths([DEFAULT_FIXTURES], g.clock.today()))
    yield g
    g.store.close()


def admin(g: Gateway, method: str, path: str, doc: Any = None) -> tuple[int, Any]:
    body = orjson.dumps(doc) if doc is not None else b""
    return g.admin_routes[(method, path)](AdminRequest(method, path, {}, body))


def declare(g: Gateway, **doc: Any) -> dict[str, Any]:
    status, body = admin(g, "POST", "/admin/disasters", {"name": "模擬地震", "prefectures": ["石川県"],
                                                         "start": "20261120", "end": "20261130", **doc})  # fmt: skip
    assert status == 201, body
    assert isinstance(body, dict)
    return body


def search(g: Gateway, info: dict[str, str | None], mic: str = ISHIKAWA, **kw: Any) -> Response:
    return g.process(API_ID, disaster_request(info, medical_institution=mic, **kw), fmt=Format.XML, transport="t")


def refusal(response: Response) -> str:
    header = xmlcodec.parse(response.body).tree["MessageHeader"]
    assert isinstance(header, dict)
    assert header["ResultCode"] == "2", header
    return str(header["MessageContents"])


def pdf_text(response: Response) -> str:
    assert response.media_type == "application/pdf", response.body[:300]
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(response.body)).pages)


def test_admin_declares_extends_closes_and_lists(gateway: Gateway) -> None:
    declared = declare(gateway, municipalities=["富山県高岡市"])
    assert declared["id"] == "D0001"
    assert declared["areas"] == ["石川県", "富山県高岡市"]
    assert declared["end"] == "20261201000000"
    status, extended = admin(gateway, "POST", "/admin/disasters/extend", {"id": "D0001", "end": "20261207"})
    assert status == 200
    assert extended["end"] == "20261208000000"
    with pytest.raises(ValueError, match="an extension ends after"):  # the admin API answers 400
        admin(gateway, "POST", "/admin/disasters/extend", {"id": "D0001", "end": "20261201"})
    status, closed = admin(gateway, "POST", "/admin/disasters/close", {"id": "D0001"})
    assert closed["closed_at"] == "20261123100000"
    assert [h.split(" ", 1)[1] for h in closed["history"]] == [
        "宣言", "延長 20261201000000→20261208000000", "閉塞 (20261123100000)",
    ]  # fmt: skip
    assert admin(gateway, "POST", "/admin/disasters/close", {"id": "D0404"})[0] == 404
    assert len(admin(gateway, "GET", "/admin/disasters")[1]["declarations"]) == 1
    assert disaster_book(gateway).declarations()[0].closed_at == NOW  # kept in the store


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"prefectures": []}, "areas"),
        ({"end": "20261101"}, "must be after start"),
        ({"name": " "}, "name"),
        ({"prefectures": ["輪島市"]}, "prefecture"),
    ],
)
def test_a_bad_declaration_is_refused_with_the_reason(gateway: Gateway, doc: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        declare(gateway, **doc)


def test_the_institution_registry_checks_codes_and_prefectures(gateway: Gateway) -> None:
    status, body = admin(gateway, "PUT", "/admin/disasters/institutions",
                         {ISHIKAWA: {"name": "模擬輪島病院", "municipality": "石川県輪島市"}})  # fmt: skip
    assert status == 200
    assert body["institutions"][ISHIKAWA]["municipality"] == "輪島市"
    assert disaster_book(gateway).place(MedicalInstitutionCode(ISHIKAWA)) == Place(ISHIKAWA, 17, "輪島市")
    with pytest.raises(ValueError, match="is not in 石川県"):
        admin(gateway, "PUT", "/admin/disasters/institutions", {ISHIKAWA: {"municipality": "富山県高岡市"}})
    with pytest.raises(ValueError, match="検証番号"):
        admin(gateway, "PUT", "/admin/disasters/institutions", {"1710110015": {"municipality": "輪島市"}})


def test_search_by_four_facts_inside_the_area(gateway: Gateway) -> None:
    declare(gateway)
    response = search(gateway, TARO)
    text = pdf_text(response)
    for expected in ("01139997", "全国健康保険協会東京支部", "12-34・5678", "枝番 00", "模擬地震 (D0001, 石川県",
                     "カンデサルタン錠８ｍｇ「模擬」", "再診料", "体重"):  # fmt: skip
        assert expected in text, expected
    facts = response.entry.extra["disaster"]
    assert facts["declaration"]["id"] == "D0001"
    assert facts["search"] == "facts"
    assert facts["person"] == "hoken-taro"
    assert facts["consent_classification"] == "1"
    assert response.entry.reason == "災害時医療情報閲覧 (D0001「模擬地震」, 本人同意)"


@pytest.mark.parametrize(
    "info",
    [
        {"Name": "ﾎｹﾝ ﾀﾛｳ", "Birthdate": "19800401", "Sex": "1", "Address": "霞が関一丁目"},  # kana typed into Name
        {"NameKana": "ほけん たろう", "Birthdate": "19800401", "Sex": "1", "Address": "千代田区"},
        {"Name": "保険太郎", "Birthdate": "19800401", "Sex": "1", "InsurerName": "全国健康保険協会 東京"},
    ],
)
def test_names_and_places_compare_as_typed_at_a_counter(gateway: Gateway, info: dict[str, str | None]) -> None:
    declare(gateway)
    assert "保険　太郎" in pdf_text(search(gateway, info))


def test_search_by_card_numbers_prints_that_card(gateway: Gateway) -> None:
    declare(gateway)
    old = min(gateway.index.people["tenshoku-saburo"].qualifications, key=lambda q: q.qualification_date)
    response = search(gateway, card_search(old, gateway.index.people["tenshoku-saburo"].birthdate))
    assert "7001・33" in pdf_text(response)
    assert response.entry.extra["disaster"]["search"] == "card"


def test_ambiguous_and_unknown_people_are_refused(gateway: Gateway) -> None:
    declare(gateway)
    twins = {"NameKana": "ﾌﾀｺﾞ ｲﾁｶ", "Birthdate": "20180612", "Sex": "2", "InsurerName": "模擬共済"}
    assert "双子　一花" in pdf_text(search(gateway, twins))  # same card and birthday, other name: one fits
    nobody = {**TARO, "Birthdate": "19800402"}
    assert refusal(search(gateway, nobody)).startswith("MGW2606")
    both = {"InsurerNumber": "31139991", "InsuredCardSymbol": "88", "InsuredIdentificationNumber": "777",
            "Birthdate": "20180612"}  # fmt: skip
    message = refusal(search(gateway, both))
    assert message.startswith("MGW2605")
    assert "2 人" in message
    assert sorted(gateway.journal.entries(limit=1)[-1].extra["disaster"]["candidates"]) == [
        "futago-ichika", "futago-nika",
    ]  # fmt: skip


def test_outside_before_and_after(gateway: Gateway) -> None:
    assert refusal(search(gateway, TARO)).startswith("MGW2601")  # nothing declared
    declare(gateway)
    outside = refusal(search(gateway, TARO, mic=TOKYO))
    assert outside.startswith("MGW2602")
    assert "東京都" in outside
    gateway.clock.set(jst(2026, 12, 1), running=False)
    assert refusal(search(gateway, TARO)).startswith("MGW2604")
    gateway.clock.set(jst(2026, 11, 19), running=False)
    assert refusal(search(gateway, TARO)).startswith("MGW2603")
    assert gateway.journal.entries(limit=1)[-1].extra["disaster"]["declaration"]["id"] == "D0001"


def test_a_pharmacy_gets_no_checkups_even_in_a_disaster(gateway: Gateway) -> None:
    declare(gateway)
    text = pdf_text(search(gateway, TARO, mic=ISHIKAWA_PHARMACY))
    assert "薬局では特定健診情報は表示されません" in text
    assert "体重" not in text


@pytest.mark.parametrize(
    ("kwargs", "info", "code", "words"),
    [
        ({"consent": None}, TARO, "MGW2607", "ConsentClassification"),
        ({"consent": "2"}, TARO, "MGW1004", "ConsentClassification"),
        ({"viewer_role": "事務"}, TARO, "MGW2508", "事務"),
        ({}, {**TARO, "InsurerName": None}, "MGW1003", "Address"),
        ({}, {**TARO, "Sex": None}, "MGW1003", "Sex"),
        ({}, {**TARO, "Name": None}, "MGW1003", "NameKana"),
    ],
)
def test_requests_are_checked(
    gateway: Gateway, kwargs: dict[str, Any], info: dict[str, str | None], code: str, words: str
) -> None:
    declare(gateway)
    message = refusal(search(gateway, info, **kwargs))
    assert message.startswith(code), message
    assert words in message


def test_emergency_consent_classification_is_journalled(gateway: Gateway) -> None:
    declare(gateway)
    response = search(gateway, TARO, consent="3", viewer_role="薬剤師")
    assert response.media_type == "application/pdf"
    assert response.entry.extra["disaster"]["consent_classification"] == "3"
    assert response.entry.extra["disaster"]["viewer_role"] == "薬剤師"
    assert "同意取得困難" in str(response.entry.reason)
