"""The admin API: access control, fixtures, clock, journal bound, faults."""

from __future__ import annotations

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from mockgateway.transports.http import is_loopback
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


# -- reliability (issue 18 items 1, 2) -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"rate": 1e308}, {"now": "99991231235959", "running": True}, {"rate": float("inf")}, {"now": "00010101"}],
)
def test_a_clock_it_cannot_run_is_refused_and_the_gateway_keeps_answering(fresh: Live, body: dict[str, Any]) -> None:
    reply = fresh.admin("POST", "/admin/clock", data=orjson.dumps(body))
    assert reply.status_code == 400
    assert reply.json()["error"].split(":")[0] in ("rate", "now", "body is not JSON")
    assert fresh.admin("GET", "/admin/clock").json()["now"] == "20261123100000"
    assert "<SegmentOfResult>1</SegmentOfResult>" in ask(fresh)
    assert fresh.admin("POST", "/admin/reset").status_code == 200
    assert requests.get(fresh.base + "/health", timeout=10).status_code == 200
    saved = fresh.running.gateway.store.get_state("clock")
    assert saved["rate"] == 1.0  # what was persisted is a state that runs


@pytest.mark.parametrize(
    ("method", "path", "body", "says"),
    [
        ("POST", "/admin/clock/advance", {"days": None}, "days: a number"),
        ("POST", "/admin/clock/advance", {"days": 1e20}, "days: a number from"),
        ("POST", "/admin/clock/advance", {"days": "1"}, "days: a number"),
        ("POST", "/admin/clock/advance", [1, 2], "must be a JSON object"),
        ("POST", "/admin/clock", [], "must be a JSON object"),
        ("POST", "/admin/clock", {"running": "yes"}, "running: true or false"),
        ("PUT", "/admin/journal/size", {"max_entries": 1e30}, "max_entries: an integer from 1 to"),
        ("PUT", "/admin/journal/size", {"max_entries": 1.5}, "max_entries: an integer"),
        ("PUT", "/admin/journal/size", [], "must be a JSON object"),
        ("POST", "/admin/faults", {"kind": "latency", "latency_ms": 1e12}, "latency_ms: a number from 0 to 60000"),
        ("POST", "/admin/faults", [], "a fault is a JSON object"),
        ("POST", "/admin/medical/consents", [], "a JSON object is expected"),
        ("POST", "/admin/reader/place", {"person_id": ["x"]}, ""),
        ("POST", "/admin/disasters", [1], ""),
    ],
)
def test_malformed_admin_bodies_get_400_naming_the_field(
    fresh: Live, method: str, path: str, body: Any, says: str
) -> None:
    reply = fresh.admin(method, path, data=orjson.dumps(body))
    assert reply.status_code == 400, reply.text
    assert says in reply.json()["error"]
    assert "Traceback" not in reply.text


def test_bad_journal_queries_get_400(fresh: Live) -> None:
    for query in ("since=abc", "limit=-1", "limit=1e3"):
        reply = fresh.admin("GET", f"/admin/journal?{query}")
        assert reply.status_code == 400
        assert query.split("=")[0] in reply.json()["error"]


def test_nested_and_aliased_fixture_bodies_are_400_quickly(fresh: Live) -> None:
    from tests.test_fixtures import LAUGHS

    bomb = fresh.admin("POST", "/admin/fixtures", data=LAUGHS.encode())
    assert bomb.status_code == 400
    assert "admin:fixtures" in bomb.json()["error"]
    deep = fresh.admin("POST", "/admin/fixtures", data=("[" * 5000 + "]" * 5000).encode())
    assert deep.status_code == 400
    assert "入れ子" in deep.json()["error"]
    assert fresh.admin("GET", "/admin/status").json()["people"] >= 14  # nothing was replaced


def test_health_reports_an_engine_that_cannot_answer(fresh: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    gateway = fresh.running.gateway
    assert requests.get(fresh.base + "/health", timeout=10).json()["status"] == "ok"

    def broken(*_: Any) -> Any:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(gateway.services["OQSsiquc01"], "handle", broken)
    sick = requests.get(fresh.base + "/health", timeout=10)
    assert sick.status_code == 503
    assert "OverflowError" in sick.json()["problems"][0]


@pytest.mark.parametrize(
    ("client", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("::ffff:127.0.0.1:5000", True),  # `--host ::` sees IPv4 loopback like this
        ("[::ffff:127.0.0.1]:5000", True),
        ("::ffff:10.0.0.1:5000", False),
        ("10.0.0.1:5000", False),
        ("garbage", False),
    ],
)
def test_loopback_clients(client: str, loopback: bool) -> None:
    assert is_loopback(client) is loopback


def test_the_admin_token_file_is_created_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockgateway.config import Config
    from mockgateway.server import admin_token

    # a chmod after the write leaves a window where the token is readable; without one it must still be 0600
    monkeypatch.setattr(Path, "chmod", lambda *_a, **_k: None)
    old = os.umask(0o022)
    try:
        token = admin_token(Config(root=tmp_path))
    finally:
        os.umask(old)
    path = tmp_path / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == token


def test_a_card_route_that_waits_does_not_stall_the_listener(fresh: Live) -> None:
    """/admin/card/* waits on pcscd (seconds): it runs off the loop, and requests keep being answered."""
    entered, release = threading.Event(), threading.Event()

    def slow(_: Any) -> tuple[int, Any]:
        entered.set()
        release.wait(30)
        return 200, {"slow": "done"}

    routes = fresh.running.gateway.admin_routes
    routes[("POST", "/admin/card/test-slow")] = slow
    try:
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(fresh.admin, "POST", "/admin/card/test-slow")
            assert entered.wait(30)
            assert "<SegmentOfResult>1</SegmentOfResult>" in ask(fresh)  # answered while the route waits
            assert fresh.admin("GET", "/admin/status").status_code == 200
            assert not pending.done()
            release.set()
            assert pending.result(30).json() == {"slow": "done"}
    finally:
        release.set()
        del routes[("POST", "/admin/card/test-slow")]


def test_status_shows_the_answer_memo(fresh: Live) -> None:
    before = fresh.admin("GET", "/admin/status").json()["answer_memo"]
    assert before["max_entries"] > 0
    first, second = ask(fresh), ask(fresh)
    assert first.replace("\n", "") == second.replace("\n", "")  # the clock is frozen: the very same answer
    after = fresh.admin("GET", "/admin/status").json()["answer_memo"]
    assert after["hits"] == before["hits"] + 1
    assert after["entries"] >= 1
