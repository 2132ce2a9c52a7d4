"""マイナ保険証 on the face-auth card reader: the terminal's side, and the `face` result file.

The reader (mockgateway/card/faceauth.py) asks this terminal for a card, a challenge, a verdict on
the certificate it read, and the consent screens; at the end `complete` writes
`face/OQSsiquc01res_face_<医療機関コード><20 chars>_<yyyyMMddHHmmss>.xml` (oqs-interface.md §1.2,
§1.4, §1.7) and journals the placement with transport "face".

The face file: ReferenceClassification 1, SegmentOfResult 1, the qualification(s) in force on the
clock's date (`current_qualifications`), the four 閲覧同意 flags (1 with …ConsTime and
…AvailableTime = consent + 24 h when agreed, else 0), the 照会番号 this 医療機関 registered, and a
notice in ProcessingResultCode / ProcessingResultMessage when the certificate expires within 3
months or is in its grace period (§5). During the grace period there are no consent screens: every
flag is 0.

Reader errors (001 / 002 / 006 and ours, faceauth.ReaderError) are on-screen only by default: no
face file, the error in the journal (`extra["face"]["error"]`) and from `GET /admin/reader/last`.
`FaceSettings.error_files` writes a face file for them too (SegmentOfResult 9 + ErrorCode before
the holder is known, else ProcessingResultStatus 2 + ProcessingResultCode) — docs/card.md.

Consents go into the gateway's ConsentBook (what the 医療情報 feature checks): flag 1 for each kind
the patient agreed to. A grace-period reading records flag 0 for every kind (closing any earlier
window at this 医療機関) and marks those in the 医療情報 feature's GracePeriodBook.

Admin routes (docs/card.md): POST /admin/reader/place, GET /admin/reader/last, GET|PUT
/admin/reader/settings, GET /admin/cards, POST /admin/cards/reset-pin, POST /admin/cards/revoke.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import logging
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway import xmlcodec
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
from mockgateway.domain.certificate import CertificateRules, CertificateStatus, GraceRule, assess
from mockgateway.domain.clock import JST, format_date, format_timestamp
from mockgateway.domain.codes import ConsentFlag, ReferenceClassification, ResultCode, SegmentOfResult, Validity
from mockgateway.domain.consent import WINDOW, Consent, ConsentKind
from mockgateway.domain.eligibility import current_qualifications
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError
from mockgateway.engine import Gateway
from mockgateway.journal import JournalEntry
from mockgateway.results import CONSENT_KINDS, ResultOptions, eligibility_body, result_header
from mockgateway.results import Consent as ResultConsent
from mockgateway.xmlcodec import Tree

if TYPE_CHECKING:
    from mockgateway.transports.admin import AdminRequest

log = logging.getLogger(__name__)

API_ID = "OQSsiquc01"
TRANSPORT = "face"
STATE_KEY = "face.settings"
FACE_PREFIX = "OQSsiquc01res_face_"
DEFAULT_MEDICAL_INSTITUTION = "1310112345"
DEFAULT_PCSCD_PORT = 35971
DEFAULT_PCSCD_READER = "mockgateway Virtual Reader 00 00"
SCREEN_ORDER = (ConsentKind.DRUG, ConsentKind.CHECKUP, ConsentKind.DIAGNOSIS, ConsentKind.OPERATION)

FaceWriter = Callable[[bytes, str], Path | None]


@dataclass(frozen=True, slots=True)
class FaceSettings:
    medical_institution: str = DEFAULT_MEDICAL_INSTITUTION  # the terminal's 医療機関コード
    error_files: bool = False  # also write a face file for reader errors (the real reader: unknown)
    grace_rule: GraceRule = GraceRule.MONTH_END
    grace_months: int = 3
    notice_months: int = 3
    consent_screens: tuple[ConsentKind, ...] = SCREEN_ORDER  # 限度額 is no longer asked
    checkup_min_age: int = 40  # 特定健診 screen only from this age
    transport: str = "direct"  # direct (card model in-process) or pcscd (the face-auth reader slot)
    pcscd_port: int = DEFAULT_PCSCD_PORT
    pcscd_reader: str = DEFAULT_PCSCD_READER
    # 処方箋発行形態: what a patient picks when the placement does not say (none: no such screen,
    # the element is left out), and the codes written for each choice ([H] codes.ts: 1 電子, 2 紙;
    # unconfirmed by an official source, hence settings; docs/card.md)
    prescription: str = "paper"
    prescription_code_electronic: str = "1"
    prescription_code_paper: str = "2"

    @property
    def rules(self) -> CertificateRules:
        return CertificateRules(self.grace_rule, self.grace_months, self.notice_months)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["grace_rule"] = self.grace_rule.value
        out["consent_screens"] = [k.value for k in self.consent_screens]
        return out

    def with_changes(self, changes: Mapping[str, Any]) -> FaceSettings:
        known = {f.name for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown reader setting {name!r}; known: {', '.join(sorted(known))}")
            if name == "medical_institution":
                values[name] = _mic(str(value))
            elif name == "error_files":
                values[name] = _flag(name, value)
            elif name == "grace_rule":
                try:
                    values[name] = GraceRule(str(value))
                except ValueError:
                    raise ValueError(f"grace_rule: one of {[r.value for r in GraceRule]}, got {value!r}") from None
            elif name in {"grace_months", "notice_months", "checkup_min_age", "pcscd_port"}:
                values[name] = _whole(name, value)
            elif name == "consent_screens":
                if not isinstance(value, list | tuple):
                    raise ValueError("consent_screens: a list, e.g. [drug, checkup, diagnosis, operation]")
                kinds = {ConsentKind.parse(str(v)) for v in value}
                values[name] = tuple(k for k in SCREEN_ORDER if k in kinds)
            elif name == "prescription":
                if value not in ("electronic", "paper", "none"):
                    raise ValueError(f"prescription: electronic, paper or none, got {value!r}")
                values[name] = value
            elif name == "transport":
                if value not in ("direct", "pcscd"):
                    raise ValueError(f"transport: direct or pcscd, got {value!r}")
                values[name] = value
            else:
                values[name] = str(value)
        updated = dataclasses.replace(self, **values)
        updated.rules  # noqa: B018 - validates the month counts
        return updated

    @classmethod
    def load(cls, gateway: Gateway) -> FaceSettings:
        saved = gateway.store.get_state(STATE_KEY)
        if not isinstance(saved, dict):
            return cls()
        try:
            return cls().with_changes(saved)
        except ValueError:
            log.warning("ignoring unreadable saved reader settings %r", saved)
            return cls()


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes", "on"}:
        return True
    if text in {"false", "0", "no", "off"}:
        return False
    raise ValueError(f"{name}: true or false, got {value!r}")


def _whole(name: str, value: Any) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(f"{name}: a whole number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{name}: not negative, got {number}")
    return number


def _mic(raw: str) -> str:
    try:
        return MedicalInstitutionCode.parse(raw).value
    except NumberError as exc:
        raise ValueError(f"medical_institution: {exc.detail}") from None


def face_file_name(mic: str, now: dt.datetime, token: str | None = None) -> str:
    """`OQSsiquc01res_face_<医療機関コード><20 chars>_<yyyyMMddHHmmss>.xml` (oqs-interface.md §1.2)."""
    tail = token if token is not None else secrets.token_hex(10)
    if len(tail) != 20:
        raise ValueError(f"the part after the 医療機関コード is 20 characters, got {tail!r}")
    return f"{FACE_PREFIX}{mic}{tail}_{format_timestamp(now)}.xml"


def folder_writer(face_dir: Path) -> FaceWriter:
    """Write into `face_dir` atomically (the same helper as FolderTransport.write_face)."""
    from mockgateway.transports.folder_files import atomic_write

    def write(body: bytes, name: str) -> Path:
        face_dir.mkdir(parents=True, exist_ok=True)
        return atomic_write(face_dir, name, body)

    return write


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
        self.slot_factory: Callable[[], ReaderSlot] | None = None  # overrides settings.transport

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

    def place(self, placement: Placement) -> ReaderResult:
        return self._reader.place(placement)

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
        mic = _mic(session.placement.medical_institution or self.settings.medical_institution)
        result = ReaderResult(session, mic)
        tree: Tree | None = None
        segment: SegmentOfResult | None = None
        validity: str | None = None
        if session.error is None:
            tree, validity, reason = self._confirmed(session, mic, now)
            segment = SegmentOfResult.NORMAL
        else:
            error = session.error
            reason = f"reader error {error.id} {error.message}: {session.error_detail}"
            if self.settings.error_files:
                tree, segment = self._error_tree(session, mic, now)
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

    # -- the face file ---------------------------------------------------------------------------

    def _confirmed(self, session: ReaderSession, mic: str, now: dt.datetime) -> tuple[Tree, str, str]:
        check = session.check
        assert check is not None
        assert check.person_id is not None
        assert check.assessment is not None
        person = self.gateway.index.people[check.person_id]
        today = now.astimezone(JST).date()
        outcome = current_qualifications(person, today)
        codes = self.gateway.codes
        notice: ResultCode | None = None
        a = check.assessment
        if a.status is CertificateStatus.GRACE:
            notice = codes.get("card.grace_period", detail=format_date(a.grace_until))
        elif a.status is CertificateStatus.EXPIRING:
            notice = codes.get("card.expiring", detail=format_date(a.expires))
        given = set(session.consents_given)
        consents = {
            kind: (
                ResultConsent(ConsentFlag.GIVEN, now, now + WINDOW)
                if ConsentKind(kind) in given
                else ResultConsent(ConsentFlag.NONE)
            )
            for kind in CONSENT_KINDS
        }
        options = ResultOptions(
            on=today,
            now=now,
            consents=consents,
            diseases_layout=self.gateway.settings.diseases_layout_xml,
            every_consent_flag=True,
        )
        match = outcome.match
        if match is not None:
            options.reference_number = _reference_number(self.gateway, mic, match.qualification.key)
        header = result_header(
            now=now,
            mic=mic,
            confirmation_date=today,
            arbitrary_file_identifier=_arbitrary_file_identifier(),
            reference=ReferenceClassification.MY_NUMBER_CARD,
            segment=SegmentOfResult.NORMAL,
            error=None,
            character_code=self.gateway.settings.character_code,
        )
        body = eligibility_body(outcome.validity, outcome.matches, options, search_echo=None, notice=notice)
        prescription = self._prescription(session.placement.prescription)
        if prescription is not None:  # first in MessageBody, where [H] MessageBody.ts reads it
            body = {"PrescriptionIssueSelect": prescription, **body}
        self._record_consents(person.id, mic, now, given, grace=check.in_grace)
        session.steps.append(f"資格有効性 {outcome.validity.value}: {outcome.reason}")
        reason = f"資格有効性 {outcome.validity.value} ({outcome.reason}); 利用者証明用電子証明書: {a.describe()}"
        return {"MessageHeader": header, "MessageBody": body}, outcome.validity.value, reason

    def _prescription(self, chosen: str | None) -> str | None:
        choice = chosen or self.settings.prescription
        if choice == "electronic":
            return self.settings.prescription_code_electronic
        if choice == "paper":
            return self.settings.prescription_code_paper
        return None

    def _error_tree(self, session: ReaderSession, mic: str, now: dt.datetime) -> tuple[Tree, SegmentOfResult]:
        error = session.error
        assert error is not None
        code = self.gateway.codes.get(error.code_name, detail=session.error_detail)
        today = now.astimezone(JST).date()
        identified = session.check is not None and session.check.person_id is not None
        segment = SegmentOfResult.NORMAL if identified else SegmentOfResult.ABNORMAL
        header = result_header(
            now=now,
            mic=mic,
            confirmation_date=today,
            arbitrary_file_identifier=_arbitrary_file_identifier(),
            reference=ReferenceClassification.MY_NUMBER_CARD,
            segment=segment,
            error=None if identified else code,
            character_code=self.gateway.settings.character_code,
        )
        if not identified:
            return {"MessageHeader": header, "MessageBody": {}}, segment
        options = ResultOptions(on=today, now=now)
        body = eligibility_body(Validity.NOT_FOUND, (), options, search_echo=None, person_error=code)
        return {"MessageHeader": header, "MessageBody": body}, segment

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


def _age(birthdate: dt.date, on: dt.date) -> int:
    return on.year - birthdate.year - ((on.month, on.day) < (birthdate.month, birthdate.day))


def _arbitrary_file_identifier() -> str:
    """Terminal-generated for face results, e.g. `ArnHCeDfNjMCFzg=` (oqs-interface.md §1.4)."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def _reference_number(gateway: Gateway, mic: str, key: Any) -> str | None:
    from mockgateway.services import reference_numbers

    return reference_numbers.reference_number_for(gateway, mic, key)


def _grace_marker(gateway: Gateway) -> Callable[[Consent], None] | None:
    """The 医療情報 feature's GracePeriodBook.mark (a table in the store; None if the feature is absent)."""
    try:
        from mockgateway.services.medical_access import GracePeriodBook
    except ImportError:  # pragma: no cover - the feature ships with the gateway
        return None
    return GracePeriodBook(gateway.store).mark


# -- access from Python and the admin API --------------------------------------------------------------

_FEATURES: weakref.WeakKeyDictionary[Gateway, FaceFeature] = weakref.WeakKeyDictionary()


def feature(gateway: Gateway) -> FaceFeature:
    """The installed face feature of `gateway` (LookupError if `install` was not called)."""
    try:
        return _FEATURES[gateway]
    except KeyError:
        raise LookupError(
            "the face feature is not installed on this gateway (mockgateway.services.face.install)"
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
        "medical_institution", "remove_at", "card", "generic_card", "prescription",
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
    return Placement(
        person_id=str(person_id) if person_id not in (None, "") else None,
        mode=AuthMode.parse(str(doc.get("mode", "face"))),
        fallback=AuthMode.parse(str(fallback)) if fallback else None,
        pins=tuple(str(p) for p in pins or ()),
        face=FaceMatch(str(doc.get("face", "match"))),
        consents=frozenset(ConsentKind.parse(str(c)) for c in consents),
        medical_institution=_mic(str(mic)) if mic else None,
        remove_at=RemovalPoint(str(remove_at)) if remove_at else None,
        generic_card=generic,
        prescription=str(doc["prescription"]) if doc.get("prescription") else None,
    )


def install(gateway: Gateway) -> None:
    face = FaceFeature(gateway)
    _FEATURES[gateway] = face

    def fixtures_loaded(gw: Gateway) -> None:
        face.registry.clear()  # cards come back as their fixtures describe them

    gateway.on_reload.append(fixtures_loaded)
    _add_routes(gateway, face)


# -- admin routes -----------------------------------------------------------------------------------


def _object(request: AdminRequest) -> dict[str, Any]:
    doc = request.json()
    if not isinstance(doc, dict):
        raise ValueError("a JSON object is expected")
    return doc


def _add_routes(gateway: Gateway, face: FaceFeature) -> None:
    routes = gateway.admin_routes
    routes[("POST", "/admin/reader/place")] = lambda r: (200, _place_json(face, _object(r)))
    routes[("GET", "/admin/reader/last")] = lambda r: _last(face, r)
    routes[("GET", "/admin/reader/settings")] = lambda _: (200, face.settings.as_dict())
    routes[("PUT", "/admin/reader/settings")] = lambda r: (200, face.update_settings(_object(r)).as_dict())
    routes[("GET", "/admin/cards")] = lambda r: _cards(face, r.query.get("id"))
    routes[("POST", "/admin/cards/reset-pin")] = lambda r: _reset_pin(face, _object(r))
    routes[("POST", "/admin/cards/revoke")] = lambda r: _revoke(face, _object(r))


def _result_json(result: ReaderResult) -> dict[str, Any]:
    out = result.as_json()
    out["face_xml"] = xmlcodec_text(result.body) if result.body is not None else None
    return out


def xmlcodec_text(body: bytes) -> str:
    encoding = xmlcodec.declared_encoding(body) or "utf-8"
    return body.decode("cp932" if xmlcodec.is_shift_jis(encoding) else "utf-8", errors="replace")


def _place_json(face: FaceFeature, doc: dict[str, Any]) -> dict[str, Any]:
    return _result_json(face.place(placement_from(doc)))


def _last(face: FaceFeature, request: AdminRequest) -> tuple[int, Any]:
    if face.last is None:
        return 404, {"error": "no card has been placed on the reader yet"}
    return 200, _result_json(face.last)


def _cards(face: FaceFeature, person_id: str | None) -> tuple[int, Any]:
    if person_id is None:
        return 200, {"cards": [c.as_json() for c in face.registry.all_issued()]}
    person = face.gateway.index.people.get(person_id)
    if person is None:
        return 404, {"error": f"no person {person_id}"}
    try:
        card = face.registry.card(person)
    except NoCardError as exc:
        return 404, {"error": str(exc)}
    out = card.as_json()
    a = assess(
        valid_from=card.valid_from,
        expires=card.expires,
        on=face.gateway.clock.today(),
        revoked=face.registry.is_revoked(card.serial),
        rules=face.settings.rules,
    )
    out.update(
        revoked=a.status is CertificateStatus.REVOKED,
        status=a.status.value,
        grace_until=f"{a.grace_until:%Y%m%d}",
        notice_from=f"{a.notice_from:%Y%m%d}",
    )
    return 200, out


def _issued_card(face: FaceFeature, doc: dict[str, Any]) -> Any:
    person = face.gateway.index.people.get(str(doc.get("person_id", "")))
    if person is None:
        raise ValueError(f"person_id {doc.get('person_id')!r}: no such person")
    try:
        return face.registry.card(person)
    except NoCardError as exc:
        raise ValueError(str(exc)) from None


def _reset_pin(face: FaceFeature, doc: dict[str, Any]) -> tuple[int, Any]:
    """What a municipal office does: every counter back to its maximum."""
    card = _issued_card(face, doc)
    card.state.reset_tries()
    return 200, card.as_json()


def _revoke(face: FaceFeature, doc: dict[str, Any]) -> tuple[int, Any]:
    card = _issued_card(face, doc)
    face.registry.revoke(card.person_id)
    return 200, dict(card.as_json(), revoked=True)
