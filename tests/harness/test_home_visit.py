"""居宅 orders: the requests the reference client builds, and what a client's request is checked against."""

from __future__ import annotations

import dataclasses

from mockgateway.harness import home_visit
from mockgateway.harness.orders import Card, Order

CARD = Card("139998", "模擬", "40021", "00", "19481120")


def order(action: str, **changes: object) -> Order:
    base = Order("S.1", "OQS-HOME-001", "t", action, "1310112345", "20261123", cards=(CARD,), treatment="2")  # type: ignore[arg-type]
    made = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(made, api_id=home_visit.api_id(made))


def test_api_ids_follow_the_action_and_treatment() -> None:
    assert order("home-visit-requery").api_id == "OQSsihvq01"
    assert order("home-visit-requery", treatment="3").api_id == "OQSsionq01"
    assert order("consent-withdrawal").api_id == "OQSsihvd01"
    assert order("consented-bulk", treatment="3").api_id == "OQSmuonq01"


def test_the_reference_request_passes_its_own_check() -> None:
    for o in (order("home-visit-requery"), order("consented-bulk", date_range=("ConsentDate", "20250101", "20251231"))):
        tree = home_visit.request_tree(o)
        assert home_visit.sent_problems(o, "req", tree) == []


def test_problems_name_what_differs() -> None:
    o = order("home-visit-requery")
    tree = home_visit.request_tree(o)
    info = tree["MessageBody"]["QualificationConfirmSearchInfo"]  # type: ignore[index]
    info["InsurerNumber"] = "00139998"  # type: ignore[index]
    info["MedicalTreatmentFlag"] = "1"  # type: ignore[index]
    problems = home_visit.sent_problems(o, "req", tree)
    assert any("InsurerNumber" in p and "'  139998'" in p for p in problems)
    assert any("MedicalTreatmentFlag (2 訪問診療等 / 3 オンライン診療等) expected '2', sent '1'" in p for p in problems)
    bulk = order("consented-bulk", date_range=("ExaminationDate", "20261101", "20261130"))
    sent = home_visit.request_tree(dataclasses.replace(bulk, date_range=("ConsentDate", "20261101", "20261130")))
    problems = home_visit.sent_problems(bulk, "req", sent)
    assert any("ConsentDateFrom" in p for p in problems)
    assert any("ExaminationDateFrom" in p for p in problems)


def test_orders_round_trip_through_json() -> None:
    for o in (order("consented-bulk", date_range=("ConsentDate", "20250101", "20251231")), order("consented-bulk"),
              order("consent-withdrawal")):  # fmt: skip
        again = Order.from_json(o.as_json())
        assert (again.treatment, again.date_range, again.api_id) == (o.treatment, o.date_range, o.api_id)
    assert "同意日 20250101〜20251231" in order("consented-bulk", date_range=("ConsentDate", "20250101",
                                                                            "20251231")).instruction()  # fmt: skip
