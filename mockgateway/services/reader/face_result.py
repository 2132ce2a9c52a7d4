"""The `face` result file of a card placement: its name, its tree and where it is written.

`face/OQSsiquc01res_face_<医療機関コード><20 chars>_<yyyyMMddHHmmss>.xml` (oqs-interface.md §1.2,
§1.4, §1.7): ReferenceClassification 1, SegmentOfResult 1, the qualification(s) in force on the
clock's date (`current_qualifications`), the four 閲覧同意 flags (1 with …ConsTime and
…AvailableTime = consent + 24 h when agreed, else 0), the 照会番号 this 医療機関 registered, and a
notice in ProcessingResultCode / ProcessingResultMessage when the certificate expires within 3
months or is in its grace period (§5). During the grace period there are no consent screens: every
flag is 0.

For reader errors, with `FaceSettings.error_files` only: SegmentOfResult 9 + ErrorCode before the
holder is known, else ProcessingResultStatus 2 + ProcessingResultCode (docs/card.md).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable
from pathlib import Path

from mockgateway.card.faceauth import ReaderSession
from mockgateway.domain.certificate import CertificateStatus
from mockgateway.domain.clock import JST, format_date, format_timestamp
from mockgateway.domain.codes import ConsentFlag, ReferenceClassification, ResultCode, SegmentOfResult, Validity
from mockgateway.domain.consent import WINDOW, ConsentKind
from mockgateway.domain.eligibility import current_qualifications
from mockgateway.engine import Gateway
from mockgateway.services.reference_numbers import reference_number_for
from mockgateway.store.files import atomic_write
from mockgateway.wire.results import CONSENT_KINDS, ResultOptions, eligibility_body, result_header
from mockgateway.wire.results import Consent as ResultConsent
from mockgateway.wire.xmlcodec import Tree

API_ID = "OQSsiquc01"
FACE_PREFIX = "OQSsiquc01res_face_"

FaceWriter = Callable[[bytes, str], Path | None]


def face_file_name(mic: str, now: dt.datetime, token: str | None = None) -> str:
    """`OQSsiquc01res_face_<医療機関コード><20 chars>_<yyyyMMddHHmmss>.xml` (oqs-interface.md §1.2)."""
    tail = token if token is not None else secrets.token_hex(10)
    if len(tail) != 20:
        raise ValueError(f"the part after the 医療機関コード is 20 characters, got {tail!r}")
    return f"{FACE_PREFIX}{mic}{tail}_{format_timestamp(now)}.xml"


def folder_writer(face_dir: Path) -> FaceWriter:
    """Write into `face_dir` atomically (the same helper as FolderTransport.write_face)."""

    def write(body: bytes, name: str) -> Path:
        face_dir.mkdir(parents=True, exist_ok=True)
        return atomic_write(face_dir, name, body)

    return write


def confirmed_tree(
    gateway: Gateway, session: ReaderSession, mic: str, now: dt.datetime, *, prescription: str | None = None
) -> tuple[Tree, str, str]:
    """The face file of an identified holder, its 資格有効性 and the journal's reason.
    `prescription`: the PrescriptionIssueSelect code of the patient's choice, or None for none."""
    check = session.check
    assert check is not None
    assert check.person_id is not None
    assert check.assessment is not None
    person = gateway.index.people[check.person_id]
    today = now.astimezone(JST).date()
    outcome = current_qualifications(person, today)
    codes = gateway.codes
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
    # The reader writes every consent flag (0 for what it did not ask), and 特定疾病 as files have it.
    options = ResultOptions(
        on=today,
        now=now,
        consents=consents,
        diseases_layout=gateway.settings.diseases_layout_xml,
        every_consent_flag=True,
    )
    match = outcome.match
    if match is not None:
        options.reference_number = reference_number_for(gateway, mic, match.qualification.key)
    header = _header(gateway, mic, now, SegmentOfResult.NORMAL, None)
    body = eligibility_body(outcome.validity, outcome.matches, options, search_echo=None, notice=notice)
    if prescription is not None:  # first in MessageBody, where [RW] and [H] read it (docs/layouts.md)
        body = {"PrescriptionIssueSelect": prescription, **body}
    session.steps.append(f"資格有効性 {outcome.validity.value}: {outcome.reason}")
    reason = f"資格有効性 {outcome.validity.value} ({outcome.reason}); 利用者証明用電子証明書: {a.describe()}"
    return {"MessageHeader": header, "MessageBody": body}, outcome.validity.value, reason


def error_tree(gateway: Gateway, session: ReaderSession, mic: str, now: dt.datetime) -> tuple[Tree, SegmentOfResult]:
    """The face file of a reader error (written only with FaceSettings.error_files)."""
    error = session.error
    assert error is not None
    code = gateway.codes.get(error.code_name, detail=session.error_detail)
    today = now.astimezone(JST).date()
    identified = session.check is not None and session.check.person_id is not None
    segment = SegmentOfResult.NORMAL if identified else SegmentOfResult.ABNORMAL
    header = _header(gateway, mic, now, segment, None if identified else code)
    if not identified:
        return {"MessageHeader": header, "MessageBody": {}}, segment
    options = ResultOptions(on=today, now=now)
    body = eligibility_body(Validity.NOT_FOUND, (), options, search_echo=None, person_error=code)
    return {"MessageHeader": header, "MessageBody": body}, segment


def _arbitrary_file_identifier() -> str:
    """Terminal-generated for face results, e.g. `ArnHCeDfNjMCFzg=` (oqs-interface.md §1.4)."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


def _header(gateway: Gateway, mic: str, now: dt.datetime, segment: SegmentOfResult, error: ResultCode | None) -> Tree:
    """A face file's MessageHeader: ReferenceClassification 1 (マイナンバーカード), a terminal file id."""
    return result_header(
        now=now,
        mic=mic,
        confirmation_date=now.astimezone(JST).date(),
        arbitrary_file_identifier=_arbitrary_file_identifier(),
        reference=ReferenceClassification.MY_NUMBER_CARD,
        segment=segment,
        error=error,
        character_code=gateway.settings.character_code,
    )
