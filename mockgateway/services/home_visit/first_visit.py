"""The 居宅 first visit on the card reader's `channel` (docs/home-visit.md), and the counter's fallback.

The reader (services/reader/session.py) reads the card for a placement with a `channel` through a
device's generic reader (the plain pcscd slot), PIN or 目視確認 only; this module plugs into its
two hooks:

- admission, before anything is read: a 資格確認限定型 institution cannot take a 居宅 channel
  (M08); 目視確認 away from the counter needs the institution's current 目視確認用パスコード
  (OQS-IF-049/050, M07); at the counter a faulted face-auth reader refuses every placement (M09) —
  since 2025-04 the same reception is completed through 居宅同意取得型 (seed 002 / §7);
- on a confirmed reading: 訪問診療等 / オンライン診療等 / 入院 register a continuing consent for the
  kinds the patient agreed to, and the face file's …AvailableTime becomes its end (not + 24 h);
  発熱外来 keeps the counter's 24 hours. The result reaches the software as a face file, like the
  reader's (the clerk imports it; inferred, docs/home-visit.md).
"""

from __future__ import annotations

import datetime as dt

from mockgateway.card.faceauth import AuthMode, Placement, ReaderError, ReaderSession
from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.continuing_consent import Channel
from mockgateway.engine import Gateway
from mockgateway.services import limited
from mockgateway.services.home_visit.feature import HomeVisitFeature
from mockgateway.wire.xmlcodec import Node, Tree

FAULTS_KEY = "home_visit.reader_faults"  # store state: 医療機関コード whose face-auth reader is out of order


class FirstVisit:
    def __init__(self, gateway: Gateway, home: HomeVisitFeature) -> None:
        self.gateway = gateway
        self.home = home

    # -- the counter's reader ------------------------------------------------------------------------

    def faulted(self) -> set[str]:
        saved = self.gateway.store.get_state(FAULTS_KEY)
        return {str(m) for m in saved} if isinstance(saved, list) else set()

    def set_fault(self, mic: str, faulted: bool) -> set[str]:
        codes = self.faulted() | {mic} if faulted else self.faulted() - {mic}
        self.gateway.store.set_state(FAULTS_KEY, sorted(codes))
        return codes

    # -- hooks -----------------------------------------------------------------------------------------

    def admit(self, placement: Placement, mic: str) -> tuple[ReaderError, str] | None:
        if placement.channel is None:
            if mic in self.faulted():
                return ReaderError.READER_FAULT, f"医療機関 {mic} の顔認証付きカードリーダーは故障中です"
            return None
        kind = limited.kind_of(self.gateway, mic)
        if placement.channel != "limited" and kind.limited:
            return (
                ReaderError.CHANNEL,
                f"{kind.value} (資格確認限定型) では居宅同意取得型 ({placement.channel}) は使えません",
            )
        if placement.mode is AuthMode.VISUAL or (placement.fallback is AuthMode.VISUAL and placement.passcode):
            problem = self.home.passcode_problem(mic, placement.passcode, self.gateway.clock.now())
            if problem is not None:
                return ReaderError.PASSCODE, problem
        return None

    def confirmed(self, session: ReaderSession, mic: str, now: dt.datetime, tree: Tree) -> None:
        placement = session.placement
        if placement.channel in (None, "limited"):
            return
        channel = Channel.parse(placement.channel)
        check = session.check
        assert check is not None
        assert check.person_id is not None
        consent = self.home.register(check.person_id, mic, channel, frozenset(session.consents_given), now)
        if consent is None:
            session.steps.append(f"{channel.label}: 同意は窓口と同じ 24 時間")
            return
        session.steps.append(f"{channel.label}: 継続同意 {consent.id} ({format_timestamp(consent.until)} まで)")
        for result in _results(tree):
            for kind in consent.kinds:
                if f"{kind.value}AvailableTime" in result:
                    result[f"{kind.value}AvailableTime"] = format_timestamp(consent.until)


def _results(tree: Tree) -> list[dict[str, Node]]:
    body = tree.get("MessageBody")
    listing = body.get("ResultList") if isinstance(body, dict) else None
    node = listing.get("ResultOfQualificationConfirmation") if isinstance(listing, dict) else None
    items = node if isinstance(node, list) else [node]
    return [i for i in items if isinstance(i, dict)]


def attach(gateway: Gateway, home: HomeVisitFeature) -> FirstVisit | None:
    """Plug into the reader's hooks (None when the reader is not installed on this gateway)."""
    from mockgateway.services.reader.session import feature as reader_feature

    try:
        reader = reader_feature(gateway)
    except LookupError:
        return None
    visit = FirstVisit(gateway, home)
    reader.admission.append(visit.admit)
    reader.on_confirmed.append(visit.confirmed)
    return visit
