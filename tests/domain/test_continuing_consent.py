"""Continuing consent (居宅同意取得型): status, flags (1 / 2 / 0), terms, choice among several."""

from __future__ import annotations

import pytest

from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.continuing_consent import (
    DEFAULT_DAYS,
    Channel,
    ConsentTerms,
    ContinuingConsent,
    Family,
    Status,
    pick,
)

GIVEN = jst(2026, 1, 10, 9, 0)


def consent(**changes: object) -> ContinuingConsent:
    values: dict[str, object] = {
        "id": "c1", "person_id": "p", "medical_institution": "1310112345", "channel": Channel.HOME_VISIT,
        "kinds": frozenset({ConsentKind.DRUG}), "given_at": GIVEN, "until": ConsentTerms().until(GIVEN),
    }  # fmt: skip
    values.update(changes)
    return ContinuingConsent(**values)  # type: ignore[arg-type]


def test_channels_map_to_the_interface_families() -> None:
    assert Channel.HOME_VISIT.family is Family.HOME_VISIT
    assert Channel.BEDSIDE.family is Family.HOME_VISIT  # 入院: like 訪問診療等 (seed 002)
    assert Channel.ONLINE.family is Family.ONLINE
    assert Channel.FEVER.family is None  # 発熱外来: 24 h like the counter
    assert Family.HOME_VISIT.value == "2"
    assert Family.ONLINE.value == "3"
    assert Channel.parse("訪問看護") is Channel.HOME_VISIT
    assert Channel.parse("オンライン診療等") is Channel.ONLINE
    with pytest.raises(ValueError, match="unknown channel"):
        Channel.parse("counter")


def test_flag_is_1_while_valid_2_once_lapsed_0_when_withdrawn_or_not_agreed() -> None:
    c = consent()
    assert c.status(GIVEN) is Status.VALID
    assert c.flag(ConsentKind.DRUG, GIVEN) is ConsentFlag.GIVEN
    assert c.flag(ConsentKind.CHECKUP, GIVEN) is ConsentFlag.NONE
    lapse = c.until
    assert c.status(lapse) is Status.LAPSED
    assert c.flag(ConsentKind.DRUG, lapse) is ConsentFlag.EXPIRED
    assert "閲覧同意フラグ 2" in (c.refusal(ConsentKind.DRUG, lapse) or "")
    w = consent(withdrawn_at=jst(2026, 2, 1))
    assert w.status(jst(2026, 1, 31)) is Status.VALID
    assert w.status(jst(2026, 2, 1)) is Status.WITHDRAWN
    assert w.flag(ConsentKind.DRUG, jst(2026, 3, 1)) is ConsentFlag.NONE
    assert c.status(jst(2026, 1, 1)) is Status.NOT_STARTED


def test_terms_default_and_limits() -> None:
    assert ConsentTerms().days == DEFAULT_DAYS == 365
    assert ConsentTerms(30).until(GIVEN) == jst(2026, 2, 9, 9, 0)
    with pytest.raises(ValueError, match="consent_days"):
        ConsentTerms(0)


def test_pick_prefers_the_newest_valid_then_the_newest() -> None:
    old = consent(id="a", given_at=jst(2025, 1, 1), until=jst(2025, 6, 1))
    new = consent(id="b")
    assert pick([old, new], GIVEN) is new
    assert pick([new, old], GIVEN) is new
    withdrawn = consent(id="c", given_at=jst(2026, 1, 11), withdrawn_at=jst(2026, 1, 12))
    assert pick([new, withdrawn], jst(2026, 1, 13)) is new
    assert pick([withdrawn], jst(2026, 1, 13)) is withdrawn
    assert pick([], GIVEN) is None
