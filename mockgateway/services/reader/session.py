"""マイナ保険証 on the face-auth card reader: the terminal's side of a placement.

The reader (mockgateway/card/faceauth.py) asks this terminal for a card, a challenge, a verdict on
the certificate it read, and the consent screens; at the end `complete` builds the face file
(face_result.py), writes it through the face writer and journals the placement with transport "face".

Reader errors (001 / 002 / 006 and ours, faceauth.ReaderError) are on-screen only by default: no
face file, the error in the journal (`extra["face"]["error"]`) and from `GET /admin/reader/last`.
`FaceSettings.error_files` writes a face file for them too — docs/card.md.

Consents go into the gateway's ConsentBook (what the 医療情報 feature checks): flag 1 for each kind
the patient agreed to. A grace-period reading records flag 0 for every kind (closing any earlier
window at this 医療機関) and marks those in the 医療情報 feature's GracePeriodBook.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card.faceauth import (
    AuthMode,
    CheckResult,
    FaceAuthReader,
    FaceMatch,
    PlacedCard,
    Placement,
    ReaderError,
    ReaderResult,
    ReaderSession,
    RemovalPoint,
    generic_card,
    pcscd_slot_factory,
)
from mockgateway.card.reader import DirectSlot, ReaderSlot
from mockgateway.card.registry import CardRegistry, NoCardError
from mockgateway.control.journal import JournalEntry
from mockgateway.domain.certificate import CertificateStatus, assess
from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ConsentFlag, SegmentOfResult
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.engine import Gateway
from mockgateway.services.reader.face_result import (
    API_ID,
    FaceWriter,
    confirmed_tree,
    error_tree,
    face_file_name,
    folder_writer,
)
from mockgateway.services.reader.settings import STATE_KEY, FaceSettings, mic_value
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree

TRANSPORT = "face"
# Placement channels away from the counter: 居宅同意取得型 (docs/home-visit.md) and 資格確認限定型 (docs/limited.md)
CHANNELS = ("home-visit", "online", "bedside", "fever", "limited")


class FaceFeature:
    """The reader, the card registry, the settings and the face writer of one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.settings = FaceSettings.load(gateway)
        self.registry = CardRegistry(clock=gateway.clock.now)
        self.writer: FaceWriter | None = None  # None: results stay in memory (GET /admin/reader/last)
        self.last: ReaderResult | None = None
        self._lock = threading.Lock()
        self._reader = FaceAuthReader(self, self._slot)
        # Away from the counter the card is read by a device's generic reader (pcscd: the plain slot).
        self._plain = FaceAuthReader(self, self._plain_slot)
        self.slot_factory: Callable[[], ReaderSlot] | None = None  # overrides settings.transport
        self.plain_slot_factory: Callable[[], ReaderSlot] | None = None
        # Hooks of other features (居宅同意取得型, docs/home-visit.md): refuse a placement before the
        # card is read; act on a confirmed reading (its face tree may be amended in place).
        self.admission: list[Callable[[Placement, str], tuple[ReaderError, str] | None]] = []
        self.on_confirmed: list[Callable[[ReaderSession, str, dt.datetime, Tree], None]] = []

    # -- configuration -------------------------------------------------------------------------

    def update_settings(self, changes: Mapping[str, Any]) -> FaceSettings:
        self.settings = self.settings.with_changes(changes)
        self.gateway.store.set_state(STATE_KEY, self.settings.as_dict())
        return self.settings

    def _slot(self) -> ReaderSlot:
        if self.slot_factory is not None:
            return self.slot_factory()
        s = self.settings
        if s.transport == "pcscd":
            return pcscd_slot_factory(s.pcscd_port, s.pcscd_reader)()
        return DirectSlot()

    @property
    def reader(self) -> FaceAuthReader:
        return self._reader

    def _plain_slot(self) -> ReaderSlot:
        if self.plain_slot_factory is not None:
            return self.plain_slot_factory()
        s = self.settings
        if s.transport == "pcscd":
            return pcscd_slot_factory(s.pcscd_port + 1, plain_reader_name(s.pcscd_reader))()  # vpcd: slot 1 = port + 1
        return DirectSlot()

    def place(self, placement: Placement) -> ReaderResult:
        return (self._plain if placement.channel is not None else self._reader).place(placement)

    def admit(self, placement: Placement) -> tuple[ReaderError, str] | None:
        mic = mic_value(placement.medical_institution or self.settings.medical_institution)
        for hook in self.admission:
            refused = hook(placement, mic)
            if refused is not None:
                return refused
        return None

    # -- Terminal (what the reader asks) -------------------------------------------------------------

    def card_for(self, placement: Placement) -> PlacedCard:
        if placement.generic_card:
            return generic_card()
        assert placement.person_id is not None
        person = self.gateway.index.people.get(placement.person_id)
        if person is None:
            raise ValueError(f"person_id {placement.person_id!r}: no such person")
        try:
            card = self.registry.card(person)
        except NoCardError as exc:
            raise ValueError(str(exc)) from None
        return PlacedCard(card.model(), card.surface, f"{person.id} のマイナンバーカード (serial {card.serial:X})")

    def challenge(self) -> bytes:
        return secrets.token_bytes(32)

    def check(
        self, certificate_der: bytes, method: AuthMode, challenge: bytes | None, signature: bytes | None
    ) -> CheckResult:
        unknown = ReaderError.CERTIFICATE_UNKNOWN
        try:
            certificate = x509.load_der_x509_certificate(certificate_der)
        except ValueError as exc:
            return CheckResult(None, None, None, False, unknown, f"証明書を解析できません: {exc}")
        serial = certificate.serial_number
        if not self.registry.issued_by_us(certificate):
            return CheckResult(None, serial, None, False, unknown, f"serial {serial:X}: TEST CA の発行ではありません")
        card = self.registry.by_certificate(certificate_der)
        if card is None:
            return CheckResult(None, serial, None, False, unknown, f"serial {serial:X}: 登録されていない証明書です")
        if method is AuthMode.PIN:
            problem = _signature_problem(certificate, challenge, signature)
            if problem:
                return CheckResult(card.person_id, serial, None, False, unknown, f"serial {serial:X}: {problem}")
        today = self.gateway.clock.today()
        a = assess(
            valid_from=card.valid_from,
            expires=card.expires,
            on=today,
            revoked=self.registry.is_revoked(serial),
            rules=self.settings.rules,
        )
        who = f"serial {serial:X} ({card.person_id})"
        if a.status in (CertificateStatus.REVOKED, CertificateStatus.EXPIRED):
            return CheckResult(card.person_id, serial, a, card.spec.registered, ReaderError.CERTIFICATE_INVALID,
                               f"{who}: {a.describe()}")  # fmt: skip
        if a.status is CertificateStatus.NOT_YET_VALID:
            return CheckResult(card.person_id, serial, a, card.spec.registered, unknown, f"{who}: {a.describe()}")
        if not card.spec.registered:
            return CheckResult(card.person_id, serial, a, False, ReaderError.NOT_REGISTERED,
                               f"{who}: 保険証利用登録がありません")  # fmt: skip
        return CheckResult(card.person_id, serial, a, True, None, f"{who}: {a.describe()}")

    def consent_screens(self, check: CheckResult) -> tuple[ConsentKind, ...]:
        person = self.gateway.index.people.get(check.person_id or "")
        if person is None:
            return ()
        age = _age(person.birthdate, self.gateway.clock.today())
        return tuple(
            k
            for k in self.settings.consent_screens
            if k is not ConsentKind.CHECKUP or age >= self.settings.checkup_min_age
        )

    def complete(self, session: ReaderSession) -> ReaderResult:
        now = self.gateway.clock.now()
        mic = mic_value(session.placement.medical_institution or self.settings.medical_institution)
        result = ReaderResult(session, mic)
        tree: Tree | None = None
        segment: SegmentOfResult | None = None
        validity: str | None = None
        if session.error is None:
            prescription = self.settings.prescription_code(session.placement.prescription)
            tree, validity, reason = confirmed_tree(self.gateway, session, mic, now, prescription=prescription)
            check = session.check
            assert check is not None
            assert check.person_id is not None
            self._record_consents(check.person_id, mic, now, set(session.consents_given), grace=check.in_grace)
            for hook in self.on_confirmed:
                hook(session, mic, now, tree)
            segment = SegmentOfResult.NORMAL
        else:
            error = session.error
            reason = f"reader error {error.id} {error.message}: {session.error_detail}"
            if self.settings.error_files:
                tree, segment = error_tree(self.gateway, session, mic, now)
        if tree is not None:
            encoding = self.gateway.settings.output_encoding
            result.tree = tree
            result.body = xmlcodec.render("XmlMsg", tree, encoding, indent=self.gateway.settings.indent_files)
            result.face_name = face_file_name(mic, now)
            if self.writer is not None:
                result.face_path = self.writer(result.body, result.face_name)
        done = time.perf_counter()
        result.elapsed_ms = (done - session.started) * 1000
        result.read_ms = (done - (session.seen or session.started)) * 1000
        entry = self.gateway.journal.record(
            JournalEntry(
                id=0,
                at=format_timestamp(now),
                real_time=time.time(),
                transport=TRANSPORT,
                api_id=API_ID,
                name=result.face_name,
                medical_institution=mic,
                request=orjson.dumps(session.placement.as_json()),
                response=result.body or b"",
                segment=segment.value if segment else None,
                validity=validity,
                reason=reason,
                duration_ms=result.elapsed_ms,
                extra={"face": result.as_json()},
            )
        )
        result.journal_id = entry.id
        entry.extra["face"]["journal_id"] = entry.id
        with self._lock:
            self.last = result
        return result

    def _record_consents(
        self, person_id: str, mic: str, now: dt.datetime, given: Iterable[ConsentKind], *, grace: bool
    ) -> None:
        book = self.gateway.consents
        if grace:
            marks = _grace_marker(self.gateway)
            for kind in ConsentKind:
                consent = Consent(person_id, mic, kind, ConsentFlag.NONE, now)
                book.record(consent)
                if marks is not None:
                    marks(consent)
            return
        for kind in given:
            book.record(Consent(person_id, mic, kind, ConsentFlag.GIVEN, now))


def _signature_problem(certificate: x509.Certificate, challenge: bytes | None, signature: bytes | None) -> str | None:
    if challenge is None or signature is None:
        return "暗証番号モードの署名がありません"
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return "RSA 鍵ではありません"
    try:
        key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "チャレンジへの署名が証明書の公開鍵で検証できません"
    return None


def plain_reader_name(face_reader: str) -> str:
    """pcscd names the vpcd slots `… 00 00` (face-auth reader) and `… 00 01` (plain reader)."""
    return face_reader[: -len("00 00")] + "00 01" if face_reader.endswith("00 00") else face_reader


def _age(birthdate: dt.date, on: dt.date) -> int:
    return on.year - birthdate.year - ((on.month, on.day) < (birthdate.month, birthdate.day))


def _grace_marker(gateway: Gateway) -> Callable[[Consent], None] | None:
    """The 医療情報 feature's GracePeriodBook.mark (a table in the store; None if the feature is absent)."""
    try:
        from mockgateway.services.medical.access import GracePeriodBook
    except ImportError:  # pragma: no cover - the feature ships with the gateway
        return None
    return GracePeriodBook(gateway.store).mark


# -- access from Python (and from the admin routes, admin.py) ----------------------------------------

_FEATURES: weakref.WeakKeyDictionary[Gateway, FaceFeature] = weakref.WeakKeyDictionary()


def feature(gateway: Gateway) -> FaceFeature:
    """The installed face feature of `gateway` (LookupError if `install` was not called)."""
    try:
        return _FEATURES[gateway]
    except KeyError:
        raise LookupError(
            "the face feature is not installed on this gateway (mockgateway.services.reader.session.install)"
        ) from None


def use_folder(gateway: Gateway, face_dir: Path) -> None:
    """Write face files into `face_dir` (the folder transport's `<root>/face`)."""
    feature(gateway).writer = folder_writer(face_dir)


def set_face_writer(gateway: Gateway, writer: FaceWriter | None) -> None:
    """E.g. `set_face_writer(gateway, running.folder.write_face)`; None keeps results in memory only."""
    feature(gateway).writer = writer


def place(gateway: Gateway, person_id: str | None, **options: Any) -> ReaderResult:
    """Python entry point: `place(gateway, "hoken-taro", mode="pin", pins=["1234"], consents=["drug"])`."""
    return feature(gateway).place(placement_from(dict(options, person_id=person_id)))


def placement_from(doc: Mapping[str, Any]) -> Placement:
    """A Placement from JSON / keyword options (the admin API's and the CLI's shape)."""
    known = {
        "person_id", "mode", "fallback", "pin", "pins", "face", "consents", "consent",
        "medical_institution", "remove_at", "card", "generic_card", "channel", "passcode", "prescription",
    }  # fmt: skip
    unknown = sorted(set(doc) - known)
    if unknown:
        raise ValueError(f"unknown placement keys {unknown}; known: {sorted(known)}")
    pins = doc.get("pins", doc.get("pin"))
    if isinstance(pins, str):
        pins = [p for p in pins.split(",") if p]
    consents = doc.get("consents", doc.get("consent")) or []
    if isinstance(consents, str):
        consents = [c for c in consents.split(",") if c.strip()]
    generic = bool(doc.get("generic_card")) or doc.get("card") == "generic"
    if doc.get("card") not in (None, "generic", "mynumber"):
        raise ValueError(f"card: generic or mynumber, got {doc.get('card')!r}")
    fallback = doc.get("fallback")
    remove_at = doc.get("remove_at")
    mic = doc.get("medical_institution")
    person_id = doc.get("person_id")
    channel = doc.get("channel")
    if channel in ("", "counter"):
        channel = None
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"channel: one of counter, {', '.join(CHANNELS)}; got {channel!r}")
    return Placement(
        person_id=str(person_id) if person_id not in (None, "") else None,
        mode=AuthMode.parse(str(doc.get("mode", "face"))),
        fallback=AuthMode.parse(str(fallback)) if fallback else None,
        pins=tuple(str(p) for p in pins or ()),
        face=FaceMatch(str(doc.get("face", "match"))),
        consents=frozenset(ConsentKind.parse(str(c)) for c in consents),
        medical_institution=mic_value(str(mic)) if mic else None,
        remove_at=RemovalPoint(str(remove_at)) if remove_at else None,
        generic_card=generic,
        prescription=str(doc["prescription"]) if doc.get("prescription") else None,
        channel=str(channel) if channel is not None else None,
        passcode=str(doc["passcode"]) if doc.get("passcode") not in (None, "") else None,
    )


def install(gateway: Gateway) -> None:
    face = FaceFeature(gateway)
    _FEATURES[gateway] = face

    def fixtures_loaded(gw: Gateway) -> None:
        face.registry.clear()  # cards come back as their fixtures describe them

    gateway.on_reload.append(fixtures_loaded)
