"""Orders and reports: the JSON a vendor's driver or command reads and writes."""

from __future__ import annotations

import pytest

from mockgateway.harness.orders import SCHEMA_ORDER, Card, Order, Report, ReportError

CARD = Card("139998", "模擬市", "100234", "00", "19650203")


def order(**changes: object) -> Order:
    base: dict[str, object] = {
        "order_id": "OQS-ELIG-003.1",
        "scenario_id": "OQS-ELIG-003",
        "scenario_title": "6桁の国保",
        "action": "eligibility",
        "medical_institution": "1310112345",
        "confirmation_date": "20261123",
        "cards": (CARD,),
    }
    base.update(changes)
    return Order(**base)  # type: ignore[arg-type]


def test_order_json_round_trips_and_says_it_in_words() -> None:
    o = order(limit_consent=True, gateway={"root": "/srv/oqs"})
    doc = o.as_json()
    assert doc["schema"] == SCHEMA_ORDER
    assert doc["card"] == {
        "insurer_number": "139998",
        "symbol": "模擬市",
        "number": "100234",
        "branch": "00",
        "birthdate": "19650203",
    }
    assert "限度額情報の提供に同意して" in doc["instruction"]
    assert "保険者番号 139998 記号 模擬市 番号 100234 枝番 00 生年月日 1965-02-03" in doc["instruction"]
    assert Order.from_json(doc) == o


def test_bulk_order_lists_every_card() -> None:
    o = order(action="bulk", cards=(CARD, Card("06139992", "", "33", "", "19850101")), api_id="OQSmuquc01")
    doc = o.as_json()
    assert len(doc["cards"]) == 2
    assert "2 件を一括照会" in doc["instruction"]
    assert "枝番なし" in doc["instruction"]
    assert Order.from_json(doc) == o


def test_report_normalises_values_and_groups() -> None:
    report = Report.from_json(
        {
            "order_id": "X.1",
            "status": "answered",
            "segment": 1,
            "validity": "1",
            "results": [
                {"Name": "保険　太郎", "LimitApplicationCertificateRelatedInfo": {"B": "2", "A": "1"}, "X": None}
            ],
        }
    )
    assert report.segment == "1"
    assert report.results[0]["LimitApplicationCertificateRelatedInfo"] == '{"A": "1", "B": "2"}'
    assert report.results[0]["X"] == ""


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "a report is a JSON object"),
        ({"status": "done"}, "status must be one of"),
        ({"status": "answered", "order_id": "other"}, "answers another order"),
        ({"status": "answered", "results": {"Name": "x"}}, "results must be a list of objects"),
        ({"status": "answered", "validity": ["1"]}, "validity must be a string or null"),
    ],
)
def test_a_malformed_report_is_refused_by_name(doc: object, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        Report.from_json(doc, order_id="X.1")


def test_reference_number_and_download_orders_round_trip() -> None:
    registering = Card("139998", "模擬市", "100234", "00", "19650203", reference_number="KARTE-000123")
    single = order(action="reference-number", cards=(registering,), api_id="OQSsiimm01")
    doc = single.as_json()
    assert doc["card"]["reference_number"] == "KARTE-000123"
    assert "照会番号 KARTE-000123" in doc["instruction"]
    assert Order.from_json(doc) == single
    many = order(action="reference-number-bulk", cards=(registering, registering), api_id="OQSmuimm01")
    assert [c["reference_number"] for c in many.as_json()["cards"]] == ["KARTE-000123"] * 2
    assert Order.from_json(many.as_json()) == many
    download = order(action="bulk-download", cards=(), api_id="OQSmuquc02", reception_number="20261123100000000001")
    doc = download.as_json()
    assert doc["reception_number"] == "20261123100000000001"
    assert "受付番号 20261123100000000001" in doc["instruction"]
    assert "card" not in doc
    assert Order.from_json(doc) == download
    assert "reference_number" not in CARD.as_json()  # only registrations carry one


def test_a_web_api_order_carries_the_card_and_where_to_log_in() -> None:
    access = {"url": "https://127.0.0.1:9", "ca": "/p/ca.pem", "client_cert": "/p/c.pem", "client_key": "/p/k.pem"}
    access.update(login_url="https://127.0.0.1:9", search_url="https://127.0.0.1:10")
    o = order(action="webapi-eligibility", gateway={"root": "/srv/oqs", "webapi": access})
    doc = o.as_json()
    assert doc["card"]["insurer_number"] == "139998"
    assert doc["limit_consent"] is False
    assert doc["confirmation_date"] == "20261123"
    assert (doc["send_medical_institution_code"], doc["insurer_padding"]) == (True, "space")
    assert "ログイン先 (https://127.0.0.1:9) に医療機関のクライアント証明書でログインし" in doc["instruction"]
    assert "照会先 (https://127.0.0.1:10) に" in doc["instruction"]
    assert Order.from_json(doc) == o


def test_a_web_api_order_may_ask_for_the_search_as_public_clients_send_it() -> None:
    o = order(action="webapi-eligibility", send_medical_institution_code=False, insurer_padding="zero")
    doc = o.as_json()
    assert (doc["send_medical_institution_code"], doc["insurer_padding"]) == (False, "zero")
    assert "医療機関コードを付けずに" in doc["instruction"]
    assert "先頭を0で埋めて" in doc["instruction"]
    assert o.padded_insurer_number == "00139998"
    assert Order.from_json(doc) == o
