"""Shared factories: a frozen clock, a gateway on a tmp_path SQLite file with the default
personas, and a builder for 資格確認要求 (OQSsiquc01req) files.

The clock stands at FROZEN_AT; persona dates written relative to "today" resolve against it:
soushitsu-jiro lost his qualification on 2025-06-08, tenshoku-saburo changed insurer on
2025-05-16, seiho-shiro lost his on 2025-06-01, mirai-goro's starts on 2025-06-19.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.control.faults import FaultBook
from mockgateway.control.journal import Journal
from mockgateway.domain.clock import VirtualClock, jst
from mockgateway.domain.codes import ResultCodes
from mockgateway.engine import Gateway, Response, Settings
from mockgateway.fixtures import load_paths
from mockgateway.services.eligibility import API_ID, EligibilityService
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree

# Every remembered answer the suite meets is checked against a fresh one (control/answer_memo.py):
# a state change the memo missed turns into an internal error in whatever test made it. Gateways
# started as processes inherit it.
os.environ.setdefault("MOCKGATEWAY_MEMO_VERIFY", "1")

FROZEN_AT = jst(2025, 6, 18, 10, 30, 0)
TODAY = "20250618"
MIC = "1311234569"  # 東京都, 医科, check digit 9

GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def clock() -> VirtualClock:
    frozen = VirtualClock(time.time)
    frozen.set(FROZEN_AT, running=False)
    return frozen


@pytest.fixture
def make_gateway(tmp_path: Path, clock: VirtualClock) -> Iterator[GatewayFactory]:
    stores: list[SqliteRepository] = []

    def make(
        *,
        settings: Settings | None = None,
        codes: ResultCodes | None = None,
        journal: Journal | None = None,
        faults: FaultBook | None = None,
        personas: bool = True,
        db: Path | None = None,
    ) -> Gateway:
        store = SqliteRepository(db or tmp_path / "mockgateway.sqlite3")
        stores.append(store)
        gateway = Gateway(store, clock, codes=codes, settings=settings, journal=journal, faults=faults)
        gateway.register(API_ID, EligibilityService())
        if personas:
            gateway.load(load_paths([DEFAULT_FIXTURES], clock.today()))
        return gateway

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Gateway:
    return make_gateway()


def eligibility_request(
    *,
    insurer: str | None = "06139992",
    symbol: str | None = "7001",
    number: str | None = "42",
    branch: str | None = "00",
    birthdate: str | None = "19900909",
    date: str | None = TODAY,
    mic: str | None = MIC,
    consent: str | None = "0",
    file_id: str | None = "req-0001",
    arbitrary: str | None = None,
    encoding: str = "Shift_JIS",
) -> bytes:
    """An OQSsiquc01req file; defaults query takasaki-sakiko. None leaves an element out."""

    def element(name: str, value: str | None) -> str:
        return "" if value is None else f"<{name}>{value}</{name}>"

    header = (
        element("QualificationConfirmationDate", date)
        + element("MedicalInstitutionCode", mic)
        + element("ArbitraryFileIdentifier", file_id)
    )
    info = (
        element("InsurerNumber", insurer)
        + element("InsuredCardSymbol", symbol)
        + element("InsuredIdentificationNumber", number)
        + element("InsuredBranchNumber", branch)
        + element("Birthdate", birthdate)
        + element("LimitApplicationCertificateRelatedConsFlg", consent)
        + element("ArbitraryIdentifier", arbitrary)
    )
    text = (
        f'<?xml version="1.0" encoding="{encoding}" standalone="no"?>\n'
        f"<XmlMsg><MessageHeader>{header}</MessageHeader>"
        f"<MessageBody><QualificationConfirmSearchInfo>{info}</QualificationConfirmSearchInfo>"
        f"</MessageBody></XmlMsg>\n"
    )
    return text.encode("cp932" if xmlcodec.is_shift_jis(encoding) else "utf-8")


def reply_tree(response: Response | bytes) -> Tree:
    """The XmlMsg tree of an XML response (decoded per its declaration)."""
    parsed = xmlcodec.parse(response.body if isinstance(response, Response) else response)
    assert parsed.root == "XmlMsg"
    return parsed.tree


def header_of(tree: Tree) -> Tree:
    header = tree["MessageHeader"]
    assert isinstance(header, dict)
    return header


def body_of(tree: Tree) -> Tree:
    body = tree["MessageBody"]
    assert isinstance(body, dict)
    return body


def results_of(tree: Tree) -> list[Tree]:
    """Every ResultOfQualificationConfirmation, as a list (empty when there is no ResultList)."""
    result_list = body_of(tree).get("ResultList")
    if result_list is None:
        return []
    assert isinstance(result_list, dict)
    items = result_list["ResultOfQualificationConfirmation"]
    out = items if isinstance(items, list) else [items]
    assert all(isinstance(item, dict) for item in out)
    return [item for item in out if isinstance(item, dict)]
