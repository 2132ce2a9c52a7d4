"""Fuzzing the HTTP surface of a running gateway (issue 18): the convenience route, the Web API's
JSON and every admin route get arbitrary bodies; every input must get an answer that is
well-formed XML or JSON, never a 5xx, never a traceback.

Bounded and deterministic for CI: derandomized examples, a modest count, no deadline (the machine
is shared, so time per example is not asserted).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgateway.wire import xmlcodec
from tests.transports.conftest import ADMIN, Live
from tests.transports.test_http import AUTH, SEARCH_BODY, TARO, client

FUZZ = settings(max_examples=120, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))

ANY_TEXT = st.lists(st.integers(0, 0x10FFFF).filter(lambda c: not 0xD800 <= c <= 0xDFFF), max_size=12).map(
    lambda points: "".join(map(chr, points))
)  # JSON can carry any code point but a lone surrogate
ODD_TEXT = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", "real", "20261123", "20261123100000", "99991231235959", "1310112345", "hoken-taro",
                     "latency", "error", "http503", "drop", "maintenance", "OQSsiquc01", "all", "face", "x" * 300]),
)  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 1e308, 1e20, 1e12, 0.5, 86400, 2**53]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, ODD_TEXT)
KEYS = st.one_of(
    st.sampled_from([
        "now", "running", "rate", "days", "hours", "minutes", "seconds", "max_entries", "max_total_bytes",
        "kind", "latency_ms", "median_ms", "sigma", "times", "api_id", "transport", "medical_institution",
        "error_code", "error_message", "start", "end", "person_id", "mode", "pins", "face", "consents",
        "kinds", "flag", "at", "id", "persons", "insurers", "MedicalInstitutionCode", "XmlMsg",
        "MessageHeader", "MessageBody",
    ]),
    ANY_TEXT,
)  # fmt: skip
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=12,
)


def encode(value: Any) -> bytes:
    # the stdlib writes what orjson will not: integers past 64 bits, NaN and Infinity (not JSON either)
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


RAW_BODIES = st.one_of(
    JSON_VALUES.map(encode),
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b"[" * 3000 + b"]" * 3000, b"a: &a [x]\nb: *a\n", b"\xff\xfe", b"null"]),
)


def assert_json(reply: requests.Response) -> Any:
    assert reply.status_code < 500, (reply.status_code, reply.text[:500])
    assert "Traceback" not in reply.text
    return orjson.loads(reply.content)


def assert_xml_or_json(reply: requests.Response) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.text[:500])
    assert "Traceback" not in reply.text
    if "xml" in reply.headers.get("content-type", ""):
        # xmlcodec reads "Shift_JIS" as CP932 as the real clients do (the answer spells 髙 or 﨑 in
        # CP932's extension rows); lxml then checks that the document is well-formed.
        xmlcodec.parse(reply.content)
    else:
        orjson.loads(reply.content)


@pytest.fixture
def quiet(fresh: Live) -> Iterator[Live]:
    """No faults, and none left behind: an injected 503 is not a bug."""
    yield fresh
    fresh.admin("DELETE", "/admin/faults")


API_IDS = st.one_of(
    st.sampled_from(["OQSsiquc01", "OQSmuquc01", "YZKsiquc01", "TKKsiquc01", "MGWdsquc01", "OQSsiquc02"]),
    ANY_TEXT.map(lambda t: requests.utils.quote(t.encode("utf-8"), safe="")),
)


def with_file_id(text: str) -> bytes:
    """TARO with arbitrary (escaped) text where the answer echoes it: ArbitraryFileIdentifier."""
    return TARO.replace("F001", text.replace("&", "&amp;").replace("<", "&lt;")).encode("utf-8", "replace")


def test_fuzz_the_convenience_route(quiet: Live) -> None:
    @FUZZ
    @given(api_id=API_IDS, body=st.one_of(RAW_BODIES, st.just(TARO.encode()), ODD_TEXT.map(with_file_id)))
    def probe(api_id: str, body: bytes) -> None:
        reply = requests.post(f"{quiet.base}/oqs/{api_id}", data=body, timeout=30)
        assert_xml_or_json(reply)

    probe()


def test_fuzz_the_web_api_json(quiet: Live) -> None:
    with client(quiet) as session:
        login = session.post(quiet.tls + AUTH, json={"MedicalInstitutionCode": "1310112345"}, timeout=10)
        token = login.json()["result"]["idToken"]

        def search_bodies(value: Any) -> bytes:
            body = json.loads(json.dumps(SEARCH_BODY))
            body["XmlMsg"]["MessageHeader"]["ArbitraryFileIdentifier"] = value
            return encode(body)

        @FUZZ
        @given(
            which=st.sampled_from(["auth", "search"]),
            body=st.one_of(RAW_BODIES, SCALARS.map(search_bodies), JSON_VALUES.map(search_bodies)),
            auth=st.one_of(st.just("valid"), st.just(""), ODD_TEXT),
        )
        def probe(which: str, body: bytes, auth: str) -> None:
            path = (
                "/oqs-api-pro/MSA12020/ILI12020SV01/auth"
                if which == "auth"
                else "/oqs-api-pro/MSA01030/ILI01030SV01/search"
            )
            # what HTTP lets a header carry (the server itself refuses control characters, before the app)
            header = token if auth == "valid" else "".join(c for c in auth if " " <= c <= "~")
            reply = session.post(quiet.tls + path, data=body, headers={"Authorization": header}, timeout=30)
            assert_json(reply)

        probe()


# Routes that start or stop a real system daemon (pcscd + vpcd for the PC/SC reader) and take no
# body: fuzzing them tests nothing about bodies, and would start daemons beside the suite's own
# (where one cannot start they answer 503 by design, docs/card.md).
DAEMON_ROUTES = {("POST", "/admin/card/reader/start"), ("POST", "/admin/card/reader/stop")}


def admin_routes(live: Live) -> list[tuple[str, str]]:
    listing = live.admin("GET", "/admin/no-such-route").json()["routes"]
    routes = [tuple(route.split(" ", 1)) for route in listing]
    return [r for r in routes if r not in DAEMON_ROUTES]  # type: ignore[misc]


def test_fuzz_every_admin_route(quiet: Live) -> None:
    routes = admin_routes(quiet)
    assert len(routes) >= 30

    @settings(FUZZ, max_examples=300)
    @given(
        route=st.sampled_from(routes),
        body=RAW_BODIES,
        query=st.dictionaries(st.sampled_from(["since", "limit", "id", "replace", "api_id"]), ODD_TEXT, max_size=2),
    )
    def probe(route: tuple[str, str], body: bytes, query: dict[str, str]) -> None:
        method, path = route
        reply = requests.request(method, quiet.base + path, params=query, data=body,
                                 headers={"X-Admin-Token": ADMIN}, timeout=30)  # fmt: skip
        assert_json(reply)
        if path.startswith("/admin/faults") or path.startswith("/admin/clock"):
            quiet.admin("DELETE", "/admin/faults")  # a latency fault must not slow the next examples
            quiet.admin("POST", "/admin/clock", json={"now": "20261123100000", "running": False})

    probe()
    assert requests.get(quiet.base + "/health", timeout=10).status_code == 200
