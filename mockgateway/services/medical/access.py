"""Who may see 医療情報, when: settings, viewer roles, consent, grace-period certificates.

oqs-interface.md §3.4 and §5. Each rule returns a `Refusal` (a result-code name and the words
that go into MessageContents and the journal) or None:
- consent: the person consented to that kind at this 医療機関 on a card reader, and the
  `…AvailableTime` (consent + 24 h) is still ahead of the gateway clock; flag 3 (同意取得困難,
  救急時) opens the window too and is journalled as such;
- grace period: a consent given with a 利用者証明用電子証明書 in its 3-month grace period gives
  no medical information (§5) — the card feature marks such consents in `GracePeriodBook`;
- card classification: none for 自衛官診療証 (07) and 医療扶助 (A1) (§3.4, [PORTAL-FAQ] Q1);
- viewer role: the role the request names (our element, `ViewerRole` by default) must be one the
  settings allow for that kind (薬剤: 医師・歯科医師・薬剤師; 特定健診: 医師・歯科医師).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.domain.retention import RetentionPolicy
from mockgateway.store.sqlite import SqliteRepository

STATE_KEY = "medical.settings"

KIND_LABELS: Mapping[ConsentKind, str] = {
    ConsentKind.DRUG: "薬剤情報",
    ConsentKind.CHECKUP: "特定健診情報",
    ConsentKind.DIAGNOSIS: "診療情報",
    ConsentKind.OPERATION: "手術情報",
}

ROLE_ALIASES: Mapping[str, str] = {
    "doctor": "医師", "physician": "医師", "dentist": "歯科医師", "pharmacist": "薬剤師",
    "nurse": "看護師", "clerk": "事務", "authorized": "閲覧権限付与者", "authorised": "閲覧権限付与者",
}  # fmt: skip

NO_MEDICAL_CARD_CLASSES: Mapping[str, str] = {"07": "自衛官診療証", "A1": "医療扶助（医療券・調剤券）"}


def normalize_role(raw: str) -> str:
    word = raw.strip(" \u3000")
    return ROLE_ALIASES.get(word.lower(), word)


@dataclass(frozen=True, slots=True)
class MedicalSettings:
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    viewer_role_element: str = "ViewerRole"  # ours, in MessageHeader: not from the spec
    require_viewer_role: bool = False  # real レセコン send none: by default assume `default_viewer_role`
    default_viewer_role: str = "医師"
    drug_roles: tuple[str, ...] = ("医師", "歯科医師", "薬剤師")
    checkup_roles: tuple[str, ...] = ("医師", "歯科医師")
    disaster_roles: tuple[str, ...] = ("医師", "歯科医師", "薬剤師", "閲覧権限付与者")
    font_path: str | None = None  # a Japanese TrueType/OpenType font; None: the first one found

    def with_changes(self, changes: Mapping[str, Any]) -> MedicalSettings:
        """`{name: value}`; retention by `drug_years`, `clinical_years`, `checkup_years`."""
        known = {f.name for f in dataclasses.fields(self)} - {"retention"}
        years = {"drug_years", "clinical_years", "checkup_years"}
        values: dict[str, Any] = {}
        retention: dict[str, int] = {}
        for name, value in changes.items():
            if name in years:
                retention[name] = _whole(name, value)
            elif name in {"require_viewer_role"}:
                values[name] = _flag(name, value)
            elif name.endswith("_roles"):
                if name not in known or not isinstance(value, list | tuple):
                    raise ValueError(f"medical setting {name}: a list of roles, e.g. [医師, 薬剤師]")
                values[name] = tuple(normalize_role(str(v)) for v in value)
            elif name in known:
                values[name] = None if value is None else str(value)
            else:
                raise ValueError(f"unknown medical setting {name!r}; known: {', '.join(sorted(known | years))}")
        if not values.get("viewer_role_element", "ViewerRole"):
            raise ValueError("viewer_role_element: an element name is needed")
        if retention:
            values["retention"] = dataclasses.replace(self.retention, **retention)
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["retention"]
        for name in ("drug_years", "clinical_years", "checkup_years"):
            out[name] = getattr(self.retention, name)
        for name in ("drug_roles", "checkup_roles", "disaster_roles"):
            out[name] = list(out[name])
        return out

    @classmethod
    def load(cls, store: SqliteRepository) -> MedicalSettings:
        saved = store.get_state(STATE_KEY)
        return cls().with_changes(saved) if isinstance(saved, dict) else cls()

    def save(self, store: SqliteRepository) -> None:
        store.set_state(STATE_KEY, self.as_dict())


def _whole(name: str, value: Any) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise ValueError(f"medical setting {name}: a whole number of years, got {value!r}") from None
    return number


def _flag(name: str, value: Any) -> bool:
    lowered = str(value).strip().lower()
    if lowered not in {"true", "false", "1", "0", "yes", "no"}:
        raise ValueError(f"medical setting {name}: true or false, got {value!r}")
    return lowered in {"true", "1", "yes"}


@dataclass(frozen=True, slots=True)
class Refusal:
    code_name: str  # result-code name (codes.py, medical.*)
    detail: str  # words for MessageContents and the journal


def consent_refusal(consent: Consent | None, kind: ConsentKind, mic: str, now: dt.datetime) -> Refusal | None:
    label = KIND_LABELS[kind]
    if consent is None or consent.flag is ConsentFlag.NONE:
        return Refusal("medical.no_consent", f"医療機関 {mic} での{label}の閲覧同意がありません")
    if consent.open_at(now):
        return None
    if consent.flag is ConsentFlag.EXPIRED or now >= consent.available_until:
        return Refusal(
            "medical.consent_expired",
            f"{label}の閲覧同意 ({format_timestamp(consent.given_at)}) の有効期限 "
            f"{format_timestamp(consent.available_until)} を過ぎています",
        )
    return Refusal("medical.no_consent", f"{label}の閲覧同意の時刻 {format_timestamp(consent.given_at)} より前です")


def role_refusal(role: str, allowed: tuple[str, ...], what: str) -> Refusal | None:
    if role in allowed:
        return None
    return Refusal("medical.role", f"閲覧者 {role!r} は{what}を閲覧できません (閲覧できる者: {'・'.join(allowed)})")


def card_refusal(card_classification: str) -> Refusal | None:
    name = NO_MEDICAL_CARD_CLASSES.get(card_classification)
    if name is None:
        return None
    return Refusal("medical.card_class", f"{name} (被保険者証区分 {card_classification}) では提供されません")


GRACE_SCHEMA = """
CREATE TABLE IF NOT EXISTS medical_grace_marks (
    person_id TEXT NOT NULL,
    medical_institution TEXT NOT NULL,
    kind TEXT NOT NULL,
    given_at TEXT NOT NULL,
    PRIMARY KEY (person_id, medical_institution, kind, given_at)
) WITHOUT ROWID;
"""


class GracePeriodBook:
    """Consents given on a card whose 利用者証明用電子証明書 was in its grace period (§5).

    The card feature records the consent in `gateway.consents` and, when the certificate had
    expired but was still inside the grace period, passes the same Consent to `mark`. A marked
    consent opens no medical information; the next consent given with a valid certificate does.
    """

    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(GRACE_SCHEMA)

    def mark(self, consent: Consent) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO medical_grace_marks VALUES (?, ?, ?, ?)",
                (consent.person_id, consent.medical_institution, consent.kind.value, consent.given_at.isoformat()),
            )

    def is_marked(self, consent: Consent) -> bool:
        row = (
            self.store.connection()
            .execute(
                "SELECT 1 FROM medical_grace_marks WHERE person_id = ? AND medical_institution = ? AND kind = ?"
                " AND given_at = ?",
                (consent.person_id, consent.medical_institution, consent.kind.value, consent.given_at.isoformat()),
            )
            .fetchone()
        )
        return row is not None

    def clear(self) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM medical_grace_marks")


def grace_refusal(consent: Consent) -> Refusal:
    return Refusal(
        "medical.grace_period",
        f"{format_timestamp(consent.given_at)} の同意は有効期限切れ (猶予期間中) の電子証明書によるため、"
        "資格情報以外は提供されません",
    )
