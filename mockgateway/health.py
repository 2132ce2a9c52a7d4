"""`GET /health`: is the gateway able to answer, not merely is the process alive.

A container health check must notice a sick gateway (a clock that cannot tell the time, a store
that cannot be read, a res/ that cannot be written), so the check runs a canary 資格確認 through
the engine (parse, clock, people index, render; not journaled, no faults) and asks every
transport what keeps it from working.
"""

from __future__ import annotations

from typing import Any

from mockgateway.domain.clock import format_date
from mockgateway.engine import Format, Gateway
from mockgateway.wire import xmlcodec

CANARY_API = "OQSsiquc01"
# A built-in person of the shipped personas (fixtures/default); if other fixtures replaced them the
# canary still exercises the whole path and gets a well-formed "not found" answer, which is healthy.
_CANARY = (
    '<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader>'
    "<QualificationConfirmationDate>{today}</QualificationConfirmationDate>"
    "<MedicalInstitutionCode>1310112345</MedicalInstitutionCode>"
    "<ArbitraryFileIdentifier>health</ArbitraryFileIdentifier></MessageHeader>"
    "<MessageBody><QualificationConfirmSearchInfo><InsurerNumber>01139997</InsurerNumber>"
    "<InsuredCardSymbol>12-34</InsuredCardSymbol><InsuredIdentificationNumber>5678</InsuredIdentificationNumber>"
    "<InsuredBranchNumber>00</InsuredBranchNumber><Birthdate>19800401</Birthdate>"
    "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
)


def check(gateway: Gateway) -> tuple[int, dict[str, Any]]:
    """(200, {"status": "ok", …}) or (503, {"status": "unhealthy", "problems": [...]})."""
    problems: list[str] = []
    detail: dict[str, Any] = {}
    try:
        now = gateway.clock.now()
        detail["now"] = now.strftime("%Y%m%d%H%M%S")
        if CANARY_API in gateway.services:
            raw = _CANARY.format(today=format_date(now)).encode()
            response = gateway.process(CANARY_API, raw, fmt=Format.XML, transport="health", canary=True)
            tree = xmlcodec.parse(response.body).tree
            segment = xmlcodec.text_at(tree, "MessageHeader", "SegmentOfResult")
            if response.internal or segment is None:
                problems.append(f"canary query failed: {response.entry.reason or 'no SegmentOfResult'}")
            detail["canary"] = {"segment": segment, "validity": response.entry.validity}
    except Exception as exc:  # /health must say what is wrong, never crash itself
        problems.append(f"canary query failed: {type(exc).__name__}: {exc}")
    for probe in list(gateway.health_checks):
        try:
            problem = probe()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            problems.append(problem)
    if problems:
        return 503, {"status": "unhealthy", "problems": problems, **detail}
    return 200, {"status": "ok", **detail}
