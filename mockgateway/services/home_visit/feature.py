"""The 居宅同意取得型 feature of one gateway: settings, the continuing-consent book, 目視確認用パスコード,
the 再照会 / 同意済資格情報一括取得 / 閲覧同意取り消し services, and the 医療情報 gate's view of
continuing consent. docs/home-visit.md."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.domain.continuing_consent import Channel, ContinuingConsent, Status, pick
from mockgateway.domain.eligibility import Outcome
from mockgateway.engine import Gateway
from mockgateway.services import reference_numbers
from mockgateway.services.home_visit.book import EXTENSION, ContinuingConsentBook
from mockgateway.services.home_visit.settings import STATE_KEY, HomeVisitSettings
from mockgateway.services.medical.access import Refusal

FEATURES: weakref.WeakKeyDictionary[Gateway, HomeVisitFeature] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class Passcode:
    """目視確認用パスコード (OQS-IF-049/050): issued to the institution, typed on the device."""

    code: str
    medical_institution: str
    issued_at: dt.datetime
    expires_at: dt.datetime


class HomeVisitFeature:
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        saved = gateway.store.get_state(STATE_KEY)
        self.settings = HomeVisitSettings().with_changes(saved) if isinstance(saved, Mapping) else HomeVisitSettings()
        self.book = ContinuingConsentBook(gateway.store)
        self.problems: list[str] = []
        self._passcodes: dict[str, Passcode] = {}
        self._lock = threading.Lock()
        self.rebuild(gateway)

    # -- fixtures and settings ----------------------------------------------------------------------

    def rebuild(self, gateway: Gateway) -> None:
        index = gateway.index
        walk = getattr(index, "with_extension", None)
        people = walk(EXTENSION) if callable(walk) else (p for p in index.people.values() if EXTENSION in p.extensions)
        self.problems = self.book.load_fixtures(people, self.settings.terms)

    def update_settings(self, changes: Mapping[str, Any]) -> HomeVisitSettings:
        self.settings = self.settings.with_changes(changes)
        self.gateway.store.set_state(STATE_KEY, self.settings.as_dict())
        self.rebuild(self.gateway)  # fixture consents without `until` follow consent_days
        return self.settings

    # -- the first visit's side effects ---------------------------------------------------------------

    def register(
        self, person_id: str, mic: str, channel: Channel, kinds: frozenset[ConsentKind], now: dt.datetime
    ) -> ContinuingConsent | None:
        """What a first visit leaves behind: a continuing consent (訪問診療等 / オンライン診療等 / 入院);
        nothing for 発熱外来 (its consent is the counter's 24 h, recorded in the ConsentBook)."""
        if channel.family is None:
            return None
        return self.book.record(person_id, mic, channel, kinds, now, self.settings.terms.until(now))

    def issue_passcode(self, mic: str, now: dt.datetime) -> Passcode:
        code = f"{secrets.randbelow(10**6):06d}"
        passcode = Passcode(code, mic, now, now + dt.timedelta(minutes=self.settings.passcode_minutes))
        with self._lock:
            self._passcodes[mic] = passcode
        return passcode

    def passcode_problem(self, mic: str, typed: str | None, now: dt.datetime) -> str | None:
        """None when `typed` is the institution's current passcode; else why not."""
        with self._lock:
            current = self._passcodes.get(mic)
        if current is None:
            return f"医療機関 {mic} には目視確認用パスコードが発行されていません"
        if now >= current.expires_at:
            return f"目視確認用パスコードの有効期限 {current.expires_at:%Y%m%d%H%M%S} を過ぎています"
        if typed is None or not secrets.compare_digest(typed.strip(), current.code):
            return "目視確認用パスコードが一致しません"
        return None

    # -- what the other features ask ------------------------------------------------------------------

    def medical_consent(
        self, person_id: str, mic: str, kind: ConsentKind, now: dt.datetime
    ) -> tuple[Consent, Refusal | None] | None:
        """The 医療情報 gate's question: does a continuing consent at `mic` speak for `kind`?
        None when there is none at all (the counter's 24-hour consent decides alone)."""
        mine = [c for c in self.book.at(mic, person_id) if kind in c.kinds]
        consent = pick(mine, now)
        if consent is None:
            return None
        flag = consent.flag(kind, now)
        as_consent = Consent(person_id, mic, kind, flag, consent.given_at, until=consent.until)
        problem = consent.refusal(kind, now)
        if problem is None:
            return as_consent, None
        name = "medical.consent_expired" if consent.status(now) is Status.LAPSED else "medical.no_consent"
        return as_consent, Refusal(name, problem)

    def reference_number(self, mic: str, outcome: Outcome) -> str | None:
        match = outcome.match
        if match is None:
            return None
        return reference_numbers.reference_number_for(self.gateway, mic, match.qualification.key)

    def consents_json(self, mic: str | None, person_id: str | None) -> list[dict[str, Any]]:
        now = self.gateway.clock.now()
        mics = [mic] if mic else sorted(self.book.institutions())
        return [consent_json(c, now) for code in mics for c in self.book.at(code, person_id)]


def consent_json(c: ContinuingConsent, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": c.id,
        "person_id": c.person_id,
        "medical_institution": c.medical_institution,
        "channel": c.channel.value,
        "family": c.family.label if c.family else None,
        "kinds": sorted(k.value for k in c.kinds),
        "from": f"{c.given_at:%Y%m%d%H%M%S}",
        "until": f"{c.until:%Y%m%d%H%M%S}",
        "withdrawn": f"{c.withdrawn_at:%Y%m%d%H%M%S}" if c.withdrawn_at else None,
        "status": c.status(now).value,
        "flag": c.flag(next(iter(sorted(c.kinds))), now).value if c.kinds else ConsentFlag.NONE.value,
    }


def feature(gateway: Gateway) -> HomeVisitFeature:
    try:
        return FEATURES[gateway]
    except KeyError:
        raise LookupError(
            "the 居宅同意取得型 feature is not installed on this gateway (mockgateway.services.home_visit.install)"
        ) from None
