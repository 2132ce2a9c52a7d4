"""The admin API: access control, fixtures, clock, journal bound, faults."""

from __future__ import annotations

import requests

from tests.transports.conftest import Live
from tests.transports.test_http import TARO


def ask(live: Live) -> str:
    return requests.post(live.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10).content.decode("cp932")


def test_admin_needs_the_token(fresh: Live) -> None:
    assert requests.get(fresh.base + "/admin/status", timeout=10).status_code == 401
    wrong = requests.get(fresh.base + "/admin/status", headers={"X-Admin-Token": "nope"}, timeout=10)
    assert wrong.status_code == 401
    status = fresh.admin("GET", "/admin/status").json()
    assert status["people"] >= 14
    assert "OQSsiquc01" in status["apis"]


def test_clock_set_advance_and_the_answer_follows_it(fresh: Live) -> None:
    assert fresh.admin("GET", "/admin/clock").json() == {"now": "20261123100000", "running": False, "rate": 1.0}
    moved = fresh.admin("POST", "/admin/clock/advance", json={"days": 1, "hours": 2}).json()
    assert moved["now"] == "20261124120000"
    assert "<ProcessExecutionTime>20261124120000</ProcessExecutionTime>" in ask(fresh)
    bad = fresh.admin("POST", "/admin/clock/advance", json={"weeks": 1})
    assert bad.status_code == 400


def test_load_fixtures_replaces_or_adds(fresh: Live) -> None:
    doc = """
insurers:
  - {InsurerNumber: "01139997", InsurerName: 追加テスト}
persons:
  - id: added-person
    Name: 追加　人
    NameKana: ツイカ　ヒト
    Sex1: "1"
    Birthdate: "19991231"
    qualifications:
      - InsurerNumber: "01139997"
        InsuredCardSymbol: "9"
        InsuredIdentificationNumber: "1"
        QualificationDate: "20200101"
"""
    added = fresh.admin("POST", "/admin/fixtures?replace=false", data=doc.encode())
    assert added.status_code == 200
    assert added.json()["people"] >= 15
    replaced = fresh.admin("POST", "/admin/fixtures", data=doc.encode()).json()
    assert replaced["people"] == 1
    broken = fresh.admin("POST", "/admin/fixtures", data=doc.replace("01139997", "01139998").encode())
    assert broken.status_code == 400
    assert "InsurerNumber" in broken.json()["error"]


def test_journal_is_bounded_and_records_near_misses(fresh: Live) -> None:
    fresh.admin("PUT", "/admin/journal/size", json={"max_entries": 3})
    for _ in range(5):
        ask(fresh)
    journal = fresh.admin("GET", "/admin/journal").json()
    assert len(journal["entries"]) == 3
    assert journal["dropped"] >= 2
    ids = [e["id"] for e in journal["entries"]]
    assert ids == sorted(ids)
    later = fresh.admin("GET", f"/admin/journal?since={ids[-2]}").json()["entries"]
    assert [e["id"] for e in later] == [ids[-1]]
    requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.replace("19800401", "19800402").encode(), timeout=10)
    last = fresh.admin("GET", "/admin/journal?limit=1").json()["entries"][0]
    assert last["validity"] == "4"
    assert "生年月日" in last["reason"]
    assert "<Birthdate>19800402</Birthdate>" in last["request"]
    fresh.admin("PUT", "/admin/journal/size", json={"max_entries": 50})


def test_fault_spec_errors_and_removal(fresh: Live) -> None:
    bad = fresh.admin("POST", "/admin/faults", json={"kind": "explode"})
    assert bad.status_code == 400
    assert "kind must be one of" in bad.json()["error"]
    rule = fresh.admin("POST", "/admin/faults", json={"kind": "http503"}).json()
    assert fresh.admin("DELETE", f"/admin/faults/{rule['id']}").status_code == 200
    assert fresh.admin("DELETE", f"/admin/faults/{rule['id']}").status_code == 404
    assert "<SegmentOfResult>1</SegmentOfResult>" in ask(fresh)


def test_maintenance_window_in_virtual_time(fresh: Live) -> None:
    window = {"kind": "maintenance", "start": "20261123120000", "end": "20261123130000"}
    fresh.admin("POST", "/admin/faults", json=window)
    assert "<SegmentOfResult>1</SegmentOfResult>" in ask(fresh)  # 10:00, before the window
    fresh.admin("POST", "/admin/clock", json={"now": "20261123123000"})
    reply = requests.post(fresh.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
    assert reply.status_code == 503
    assert "<ErrorCode>MGW9002</ErrorCode>" in reply.content.decode("cp932")
    fresh.admin("POST", "/admin/clock", json={"now": "20261123130000"})
    assert "<SegmentOfResult>1</SegmentOfResult>" in ask(fresh)  # the end is exclusive


def test_people_lookup(fresh: Live) -> None:
    people = fresh.admin("GET", "/admin/people").json()["people"]
    assert "hoken-taro" in people
    kokuho = fresh.admin("GET", "/admin/people?id=kokuho-ichiro").json()
    assert kokuho["qualifications"][0]["InsurerNumber"] == "  139998"
    assert fresh.admin("GET", "/admin/people?id=nobody").status_code == 404
