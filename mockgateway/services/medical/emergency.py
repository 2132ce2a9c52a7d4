"""救急時医療情報閲覧 (OQS-IF-047/048): a patient who cannot consent (oqs-interface.md §1.5, §4).

On the real system the emergency interface reads the patient's My Number card without PIN or
face and records 閲覧同意フラグ 3 (同意取得困難), which "is set only by the 救急医療 interface".
The request/result layout of OQS-IF-047/048 is not public, so this module models only its effect:
consents with flag 3 for every kind, at one 医療機関, recorded in the gateway's ConsentBook.
Flag 3 opens the same 24-hour window as flag 1 (domain/consent.py); the 医療情報 services then
answer and journal the view with `extra["medical"]["emergency"] = true` and the reason
"救急時医療情報閲覧: 同意取得困難 …".

The card feature (or a test, or the admin route POST /admin/medical/emergency) calls
`record_emergency`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from mockgateway.control.consents import ConsentBook
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind

ALL_KINDS: tuple[ConsentKind, ...] = tuple(ConsentKind)


def record_emergency(
    book: ConsentBook,
    person_id: str,
    medical_institution: str,
    at: dt.datetime,
    kinds: Iterable[ConsentKind] = ALL_KINDS,
) -> list[Consent]:
    """Record 同意取得困難 (flag 3) for each kind; returns what was recorded."""
    recorded = [Consent(person_id, medical_institution, kind, ConsentFlag.UNOBTAINABLE, at) for kind in kinds]
    for consent in recorded:
        book.record(consent)
    return recorded


def is_emergency(consent: Consent | None) -> bool:
    return consent is not None and consent.flag is ConsentFlag.UNOBTAINABLE
