"""The face-auth card reader's workflow: place card → identity → certificate check → consent → result.

What a patient does at the 顔認証付きカードリーダー (mynumber-card.md §4), as a scenario driver:

1. places a card (a fixture person's My Number card, or some other card);
2. the reader reads the 利用者証明用電子証明書 (JPKI EF 000A) — a non-My-Number card fails here (002);
3. identity, in the chosen mode with an optional fallback (face mismatch → PIN or 目視, …):
   * 顔認証: the face image is read (券面事項確認 AP behind 照合番号B) and compared with the camera;
     the comparison's outcome is the scenario's choice (`FaceMatch`);
   * 暗証番号: the retry counter is queried, then VERIFY with each PIN the patient types (4 digits,
     3 tries; a blocked PIN answers 63C0 / 6983 / 6984 by profile), then the card signs a fresh
     challenge from the terminal, which verifies it against the certificate;
   * 目視: the clerk compares the face with the card photo (always succeeds);
4. the terminal checks the certificate (ours, not revoked, valid / expiring / grace / expired) and
   the 保険証利用登録 (`Terminal.check`);
5. consent screens (薬剤, 特定健診 for 40歳以上, 診療, 手術) unless the certificate is in its grace
   period; the patient agrees to `Placement.consents`;
6. the terminal writes the result (`Terminal.complete`): the face file, or the reader's error.

The card can be pulled out at a chosen point (`RemovalPoint`) → error 001. Reader errors carry the
on-screen code: 001 / 002 / 006 are the real reader's (oqs-interface.md §1.6); M01… are ours.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Protocol

from mockgateway.card.model import CardModel, GenericCard
from mockgateway.card.reader import CardReading, CardRemoved, DirectSlot, NotMyNumberCard, PcscSlot, ReaderSlot
from mockgateway.card.registry import CardSurface
from mockgateway.domain.certificate import Assessment
from mockgateway.domain.consent import ConsentKind
from mockgateway.wire.xmlcodec import Tree


class AuthMode(StrEnum):
    FACE = "face"  # 顔認証
    PIN = "pin"  # 暗証番号
    VISUAL = "visual"  # 目視確認

    @classmethod
    def parse(cls, word: str) -> AuthMode:
        aliases = {"顔認証": cls.FACE, "暗証番号": cls.PIN, "目視": cls.VISUAL, "目視確認": cls.VISUAL}
        text = word.strip()
        if text in aliases:
            return aliases[text]
        try:
            return cls(text.lower())
        except ValueError:
            raise ValueError(f"unknown mode {word!r}; use face, pin or visual") from None


class FaceMatch(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"


class RemovalPoint(StrEnum):
    """Where the card leaves the reader in a "card removed mid-read" scenario."""

    CERTIFICATE = "certificate"  # before the certificate is read
    FACE_IMAGE = "face_image"  # before the face image is read (face mode)
    PIN = "pin"  # before VERIFY (PIN mode)
    SIGNATURE = "signature"  # after VERIFY, before the signature (PIN mode)


class ReaderError(Enum):
    """On-screen errors: (id shown on the reader, result-code name, message)."""

    UNREADABLE = ("001", "reader.unreadable", "マイナンバーカードを読み取れませんでした")
    NOT_MYNUMBER = ("002", "reader.not_mynumber", "マイナンバーカード以外のカードです")
    CERTIFICATE_INVALID = (
        "006",
        "card.certificate_invalid",
        "利用者証明用電子証明書が失効しているか有効期限が切れています",
    )
    PIN_BLOCKED = ("M01", "reader.pin_blocked", "暗証番号がロックされています")
    PIN_WRONG = ("M02", "reader.pin_wrong", "暗証番号が正しくありません")
    FACE_MISMATCH = ("M03", "reader.face_mismatch", "顔認証で本人確認できませんでした")
    NOT_REGISTERED = ("M04", "card.not_registered", "健康保険証としての利用登録がされていません")
    NO_PIN = ("M05", "reader.no_pin", "暗証番号が設定されていないカードです (顔認証マイナンバーカード)")
    CERTIFICATE_UNKNOWN = ("M06", "card.certificate_unknown", "利用者証明用電子証明書を確認できません")
    # 居宅同意取得型 / 資格確認限定型 (docs/home-visit.md, docs/limited.md): refused before the card is read
    PASSCODE = ("M07", "home_visit.passcode", "目視確認用パスコードが正しくありません")
    CHANNEL = ("M08", "home_visit.not_limited_reader", "この施設ではこの読み取り方法は使えません")
    READER_FAULT = ("M09", "reader.faulted", "カードリーダーが故障中です: 居宅同意取得型で受け付けてください")

    @property
    def id(self) -> str:
        return self.value[0]

    @property
    def code_name(self) -> str:
        return self.value[1]

    @property
    def message(self) -> str:
        return self.value[2]

    @classmethod
    def by_id(cls, ident: str) -> ReaderError:
        for e in cls:
            if e.id == ident or e.name.lower() == ident.lower():
                return e
        raise ValueError(f"unknown reader error {ident!r}; known: {', '.join(e.id for e in cls)}")


PRESCRIPTION_CHOICES = ("electronic", "paper")  # the reader's 電子処方箋 / 紙の処方箋 screen


@dataclass(frozen=True, slots=True)
class Placement:
    """One patient at the reader. `person_id` None with `generic_card` True: some other card."""

    person_id: str | None
    mode: AuthMode = AuthMode.FACE
    fallback: AuthMode | None = None
    pins: tuple[str, ...] = ()  # what the patient types, in order
    face: FaceMatch = FaceMatch.MATCH
    consents: frozenset[ConsentKind] = frozenset()
    medical_institution: str | None = None  # None: the terminal's
    remove_at: RemovalPoint | None = None
    generic_card: bool = False
    prescription: str | None = None  # 処方箋発行形態 chosen on screen: electronic / paper; None: the reader's setting
    # Away from the counter (docs/home-visit.md): None at the face-auth reader; home-visit / online /
    # bedside / fever on the マイナ資格確認アプリ or マイナ在宅受付Web; limited for 資格確認限定型.
    channel: str | None = None
    passcode: str | None = None  # 目視確認用パスコード typed into the app (目視確認 away from the counter)

    def __post_init__(self) -> None:
        if self.prescription not in (None, *PRESCRIPTION_CHOICES):
            raise ValueError(f"prescription: {' or '.join(PRESCRIPTION_CHOICES)}, got {self.prescription!r}")
        if self.person_id is None and not self.generic_card:
            raise ValueError("a person id is needed (or generic_card for a card that is not a My Number card)")
        if self.fallback is not None and self.fallback is self.mode:
            raise ValueError(f"fallback {self.fallback} is the same as the mode")
        if self.channel is not None and AuthMode.FACE in (self.mode, self.fallback):
            raise ValueError(f"channel {self.channel}: the app identifies by PIN or 目視確認 (visual), not by face")
        if AuthMode.PIN in (self.mode, self.fallback) and not self.pins:
            raise ValueError("PIN mode needs the PIN(s) the patient types (pins)")
        for pin in self.pins:
            if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
                raise ValueError(f"a PIN is 4 digits: {pin!r}")

    def as_json(self) -> dict[str, Any]:
        """For the journal: never the PIN values, only how many were typed."""
        return {
            "person_id": self.person_id,
            "generic_card": self.generic_card,
            "mode": self.mode.value,
            "fallback": self.fallback.value if self.fallback else None,
            "pins_typed": len(self.pins),
            "face": self.face.value,
            "consents": sorted(k.value for k in self.consents),
            "medical_institution": self.medical_institution,
            "remove_at": self.remove_at.value if self.remove_at else None,
            "prescription": self.prescription,
            "channel": self.channel,
            "passcode_typed": self.passcode is not None,
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The terminal's verdict on the certificate the reader read."""

    person_id: str | None
    serial: int | None
    assessment: Assessment | None
    registered: bool
    error: ReaderError | None
    detail: str

    @property
    def in_grace(self) -> bool:
        return self.assessment is not None and self.assessment.in_grace


@dataclass
class ReaderSession:
    """What happened at the reader, step by step (becomes the journal entry and the result)."""

    placement: Placement
    started: float = field(default_factory=time.perf_counter)  # the card is placed
    seen: float = 0.0  # the reader has the card (pcscd: after it reported the card present)
    steps: list[str] = field(default_factory=list)
    method: AuthMode | None = None
    certificate_der: bytes | None = None
    check: CheckResult | None = None
    consents_shown: tuple[ConsentKind, ...] = ()
    consents_given: tuple[ConsentKind, ...] = ()
    error: ReaderError | None = None
    error_detail: str = ""
    apdus: int = 0
    pin_tries_left: int | None = None

    def fail(self, error: ReaderError, detail: str) -> None:
        self.error, self.error_detail = error, detail
        self.steps.append(f"error {error.id}: {detail}")


@dataclass
class ReaderResult:
    session: ReaderSession
    medical_institution: str
    face_name: str | None = None
    face_path: Path | None = None
    body: bytes | None = None
    tree: Tree | None = None
    journal_id: int = 0
    elapsed_ms: float = 0.0  # card placed → result written
    read_ms: float = 0.0  # card seen by the reader → result written (without PC/SC card detection)

    @property
    def ok(self) -> bool:
        return self.session.error is None

    @property
    def error(self) -> ReaderError | None:
        return self.session.error

    def as_json(self) -> dict[str, Any]:
        s = self.session
        check = s.check
        a = check.assessment if check else None
        return {
            "outcome": "confirmed" if self.ok else "reader_error",
            "person_id": check.person_id if check and check.person_id else s.placement.person_id,
            "medical_institution": self.medical_institution,
            "method": s.method.value if s.method else None,
            "steps": list(s.steps),
            "error": (
                {"id": s.error.id, "name": s.error.name.lower(), "message": s.error.message, "detail": s.error_detail}
                if s.error
                else None
            ),
            "certificate": (
                {
                    "serial": f"{check.serial:X}" if check and check.serial is not None else None,
                    "status": a.status.value,
                    "expires": f"{a.expires:%Y%m%d}",
                    "grace_until": f"{a.grace_until:%Y%m%d}",
                    "notice_from": f"{a.notice_from:%Y%m%d}",
                }
                if a is not None
                else None
            ),
            "registered": check.registered if check else None,
            "grace_period": bool(check and check.in_grace),
            "consents_shown": [k.value for k in s.consents_shown],
            "consents_given": [k.value for k in s.consents_given],
            "pin_tries_left": s.pin_tries_left,
            "face_file": self.face_name,
            "journal_id": self.journal_id,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "read_ms": round(self.read_ms, 3),
            "apdus": s.apdus,
        }


@dataclass(frozen=True, slots=True)
class PlacedCard:
    model: CardModel
    surface: CardSurface | None
    label: str


class Terminal(Protocol):
    """The 資格確認端末 and the central system, as the reader sees them (services/reader/session.py)."""

    def card_for(self, placement: Placement) -> PlacedCard: ...

    def challenge(self) -> bytes: ...

    def check(
        self, certificate_der: bytes, method: AuthMode, challenge: bytes | None, signature: bytes | None
    ) -> CheckResult: ...

    def consent_screens(self, check: CheckResult) -> tuple[ConsentKind, ...]: ...

    def complete(self, session: ReaderSession) -> ReaderResult: ...


class _Identity:
    """One identification attempt; `ok` False with the error that ended it."""

    def __init__(self, ok: bool, error: ReaderError | None = None, detail: str = "") -> None:
        self.ok, self.error, self.detail = ok, error, detail


class FaceAuthReader:
    """One physical reader: placements are served one at a time."""

    def __init__(self, terminal: Terminal, slot_factory: Callable[[], ReaderSlot] = DirectSlot) -> None:
        self.terminal = terminal
        self.slot_factory = slot_factory
        self._lock = threading.Lock()

    def place(self, placement: Placement) -> ReaderResult:
        card = self.terminal.card_for(placement)  # before the clock starts: issuing keys is not reading
        with self._lock:
            session = ReaderSession(placement)
            slot = self.slot_factory()
            slot.insert(card.model)
            session.seen = time.perf_counter()
            session.steps.append(f"card placed: {card.label} in {slot.name}")
            # The terminal may refuse before anything is read (a faulted reader, a wrong 目視確認用パスコード).
            admit = getattr(self.terminal, "admit", None)
            refused = admit(placement) if callable(admit) else None
            try:
                if refused is not None:
                    session.fail(*refused)
                else:
                    self._read(session, slot, card)
                session.apdus = int(getattr(slot, "apdu_count", 0))
                return self.terminal.complete(session)  # the result is written before the card leaves
            finally:
                slot.remove()

    def _pull(self, session: ReaderSession, slot: ReaderSlot, point: RemovalPoint) -> None:
        if session.placement.remove_at is point:
            session.steps.append(f"card removed before {point.value}")
            pull = getattr(slot, "pull", None)
            if callable(pull):
                pull()
            else:
                slot.remove()

    def _read(self, session: ReaderSession, slot: ReaderSlot, card: PlacedCard) -> None:
        p = session.placement
        reading = CardReading(slot)
        if p.channel is not None:  # seed 002: 薬剤情報等の同意を先に取得し、次に本人確認、カードを読み取る
            session.steps.append(
                f"{p.channel}: consent to 薬剤情報等 asked first {sorted(k.value for k in p.consents)}"
            )
        try:
            self._pull(session, slot, RemovalPoint.CERTIFICATE)
            session.certificate_der = reading.read_auth_certificate()
            session.steps.append(f"certificate read ({len(session.certificate_der)} bytes)")
            outcome = _Identity(False, ReaderError.UNREADABLE, "no identification attempted")
            challenge = signature = None
            for mode in (p.mode, p.fallback):
                if mode is None:
                    continue
                if mode is AuthMode.FACE:
                    outcome = self._face(session, slot, reading, card)
                elif mode is AuthMode.PIN:
                    outcome = self._pin(session, slot, reading, card)
                    if outcome.ok:
                        challenge = self.terminal.challenge()
                        self._pull(session, slot, RemovalPoint.SIGNATURE)
                        signature = reading.sign_challenge(challenge)
                        session.steps.append(f"challenge signed ({len(signature)} bytes)")
                else:
                    outcome = _Identity(True)
                    session.steps.append("目視確認: confirmed by the clerk")
                if outcome.ok:
                    session.method = mode
                    break
        except NotMyNumberCard as exc:
            session.fail(ReaderError.NOT_MYNUMBER, str(exc))
            return
        except CardRemoved as exc:
            session.fail(ReaderError.UNREADABLE, f"カードが読み取れません: {exc}")
            return
        if not outcome.ok:
            assert outcome.error is not None
            session.fail(outcome.error, outcome.detail)
            return
        assert session.method is not None
        assert session.certificate_der is not None
        check = self.terminal.check(session.certificate_der, session.method, challenge, signature)
        session.check = check
        session.steps.append(f"certificate check: {check.detail}")
        if check.error is not None:
            session.fail(check.error, check.detail)
            return
        if check.in_grace:
            session.steps.append("grace period: no consent screens")
            return
        if p.channel == "limited":
            session.steps.append("資格確認限定型: eligibility only, no consent screens")
            return
        shown = self.terminal.consent_screens(check)
        session.consents_shown = shown
        session.consents_given = tuple(k for k in shown if k in p.consents)
        skipped = sorted(k.value for k in p.consents if k not in shown)
        session.steps.append(
            f"consent screens {[k.value for k in shown]}: agreed {[k.value for k in session.consents_given]}"
            + (f" (not asked: {skipped})" if skipped else "")
        )

    def _face(self, session: ReaderSession, slot: ReaderSlot, reading: CardReading, card: PlacedCard) -> _Identity:
        self._pull(session, slot, RemovalPoint.FACE_IMAGE)
        image = reading.read_face_image(card.surface.verification_number_b if card.surface else "")
        matched = session.placement.face is FaceMatch.MATCH
        session.steps.append(
            f"顔認証: face image read ({len(image)} bytes), camera {'match' if matched else 'mismatch'}"
        )
        if matched:
            return _Identity(True)
        return _Identity(False, ReaderError.FACE_MISMATCH, "カメラの顔とカードの顔写真が一致しません")

    def _pin(self, session: ReaderSession, slot: ReaderSlot, reading: CardReading, card: PlacedCard) -> _Identity:
        if card.surface is not None and card.surface.face_auth_card:
            session.steps.append("暗証番号: not available on a 顔認証マイナンバーカード")
            return _Identity(
                False, ReaderError.NO_PIN, "顔認証マイナンバーカードには暗証番号がありません: 顔認証か目視確認で"
            )
        self._pull(session, slot, RemovalPoint.PIN)
        left = reading.auth_pin_tries()
        session.pin_tries_left = left
        if left == 0:
            session.steps.append("暗証番号: blocked before any attempt")
            return _Identity(
                False, ReaderError.PIN_BLOCKED, "暗証番号がロックされています: 市区町村の窓口で初期化が必要です"
            )
        for n, pin in enumerate(session.placement.pins, start=1):
            check = reading.verify_auth_pin(pin)
            session.pin_tries_left = check.remaining
            if check.ok:
                session.steps.append(f"暗証番号: attempt {n} correct")
                return _Identity(True)
            if check.blocked:
                session.steps.append(f"暗証番号: attempt {n} wrong, now blocked (SW {check.sw:04X})")
                return _Identity(
                    False, ReaderError.PIN_BLOCKED, f"暗証番号を{n}回誤りロックされました (SW {check.sw:04X})"
                )
            session.steps.append(f"暗証番号: attempt {n} wrong, {check.remaining} left")
        left = session.pin_tries_left or 0
        return _Identity(False, ReaderError.PIN_WRONG, f"暗証番号が一致しません (残り {left} 回)")


def generic_card() -> PlacedCard:
    """A card that is not a My Number card (a point card, a credit card)."""
    return PlacedCard(GenericCard(), None, "generic card (not a My Number card)")


def pcscd_slot_factory(port: int, reader: str) -> Callable[[], ReaderSlot]:
    """Slots in the pcscd face-auth reader (needs a running pcscd with our vpcd entry)."""
    return lambda: PcscSlot(port, reader)
