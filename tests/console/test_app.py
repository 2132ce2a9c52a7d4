"""The console without a browser: only the login page without the token; the cookie's flags; every
state change refused without the session cookie, from another origin, or without the CSRF token."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import requests

from mockgateway.console import Console as ConsoleApp
from mockgateway.console import auth
from mockgateway.control.tokens import TokenBook
from mockgateway.engine import Gateway
from mockgateway.transports.admin import AdminApi
from tests.console.conftest import REPORT_RUN, Console
from tests.transports.conftest import ADMIN
from tests.transports.test_http import TARO


def test_without_the_token_only_the_login_page_is_served(console: Console) -> None:
    base = console.base
    login = requests.get(base + "/console/login", timeout=10)
    assert login.status_code == 200
    assert 'name="token"' in login.text
    for page in ("/console/", "/console/reader", "/console/journal", "/console/controls", "/console/runs",
                 f"/console/reports/{REPORT_RUN}/report.html"):  # fmt: skip
        r = requests.get(base + page, allow_redirects=False, timeout=10)
        assert r.status_code == 303, page
        assert r.headers["location"] == "/console/login"
    for path in ("/console/api/people", "/console/api/admin/status", "/console/api/journal", "/console/events",
                 "/console/static/console.js"):  # fmt: skip
        r = requests.get(base + path, allow_redirects=False, timeout=10)
        assert r.status_code == 401, path
        assert "log in" in r.json()["error"]
    wrong = requests.post(base + "/console/login", data={"token": "nope"}, headers={"Origin": base}, timeout=10)
    assert wrong.status_code == 401
    assert "set-cookie" not in wrong.headers


def test_login_sets_an_httponly_samesite_strict_cookie(console: Console) -> None:
    r = requests.post(
        console.base + "/console/login", data={"token": ADMIN}, headers={"Origin": console.base},
        allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(auth.COOKIE + "=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/console" in cookie
    page = requests.get(console.base + "/console/reader", cookies=r.cookies, timeout=10)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_a_login_from_another_origin_is_refused(console: Console) -> None:
    r = requests.post(
        console.base + "/console/login", data={"token": ADMIN}, headers={"Origin": "http://evil.example"},
        allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert r.status_code == 403
    assert "set-cookie" not in r.headers


def test_state_changes_need_cookie_same_origin_and_csrf_token(console: Console) -> None:
    session, csrf = console.login()
    url = console.base + "/console/api/admin/faults"
    fault = {"kind": "http503"}
    good = {"Origin": console.base, "X-CSRF-Token": csrf}
    refusals = [
        (requests.post(url, json=fault, headers=good, timeout=10), 401),  # no cookie
        (session.post(url, json=fault, headers={**good, "Origin": "http://evil.example"}, timeout=10), 403),
        (session.post(url, json=fault, headers={**good, "Sec-Fetch-Site": "cross-site"}, timeout=10), 403),
        (session.post(url, json=fault, headers={**good, "Sec-Fetch-Site": "same-site"}, timeout=10), 403),
        (session.post(url, json=fault, headers={"X-CSRF-Token": csrf}, timeout=10), 403),  # no Origin at all
        (session.post(url, json=fault, headers={"Origin": console.base}, timeout=10), 403),  # no CSRF token
        (session.post(url, json=fault, headers={**good, "X-CSRF-Token": csrf[:-2] + "xx"}, timeout=10), 403),
        (session.post(console.base + "/console/api/admin/reset", headers={"Origin": console.base}, timeout=10), 403),
    ]
    for response, status in refusals:
        assert response.status_code == status, response.text
    assert console.admin("GET", "/admin/faults").json()["faults"] == []  # nothing got through
    ok = session.post(url, json=fault, headers={**good, "Sec-Fetch-Site": "same-origin"}, timeout=10)
    assert ok.status_code == 201
    assert [f["kind"] for f in console.admin("GET", "/admin/faults").json()["faults"]] == ["http503"]
    logout = session.post(console.base + "/console/logout", data={"csrf": csrf}, headers={"Origin": console.base},
                          allow_redirects=False, timeout=10)  # fmt: skip
    assert logout.status_code == 303
    after = session.delete(url, headers=good, timeout=10)
    assert after.status_code == 401  # the session is gone with the logout


def test_the_console_reads_through_the_admin_routes(console: Console) -> None:
    session, _ = console.login()
    status = session.get(console.base + "/console/api/admin/status", timeout=10).json()
    assert status == console.admin("GET", "/admin/status").json()
    found = session.get(console.base + "/console/api/people", params={"q": "ﾎｹﾝ"}, timeout=10).json()["people"]
    assert "hoken-taro" in [p["id"] for p in found]
    by_kana = session.get(console.base + "/console/api/people", params={"q": "ホケン　タロウ"}, timeout=10).json()
    assert [p["id"] for p in by_kana["people"]] == ["hoken-taro"]


def test_the_journal_as_server_sent_events(console: Console) -> None:
    session, _ = console.login()
    with session.get(console.base + "/console/events?since=0&api_id=OQSsiquc01", stream=True, timeout=10) as sse:
        assert sse.headers["content-type"].startswith("text/event-stream")
        requests.post(console.base + "/oqs/OQSsiquc01", data=TARO.encode(), timeout=10)
        seen = ""
        for chunk in sse.iter_content(chunk_size=None, decode_unicode=True):
            seen += chunk
            if '"api_id":"OQSsiquc01"' in seen:
                break
    assert '"outcome":"ok"' in seen
    assert "event: clock\ndata: 20261123100000" in seen


def test_reports_are_listed_and_no_path_escapes_the_folder(console: Console) -> None:
    session, _ = console.login()
    page = session.get(console.base + "/console/runs", timeout=10).text
    assert f"/console/reports/{REPORT_RUN}/report.html" in page
    report = session.get(console.base + f"/console/reports/{REPORT_RUN}/report.html", timeout=10)
    assert report.status_code == 200
    assert "sandbox" in report.headers["content-security-policy"]
    for name in ("..", "../..", "%2e%2e", "a/../../x"):
        assert session.get(console.base + f"/console/reports/{name}/report.html", timeout=10).status_code == 404


def test_the_console_answers_loopback_clients_only(gateway: Gateway, tmp_path: Path) -> None:
    class Scope:
        proto, method, path, query_string, scheme = "http", "GET", "/console/login", "", "http"
        client = "192.0.2.7:5000"

    app = ConsoleApp(gateway, AdminApi(gateway, ADMIN, TokenBook(dt.timedelta(hours=1)), []), tmp_path)
    status, _, body, _ = app.handle(Scope(), {}, b"")  # type: ignore[arg-type]
    assert status == 403
    assert b"loopback" in body
