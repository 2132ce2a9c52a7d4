"""Settings of the face-auth reader (GET|PUT /admin/reader/settings, docs/card.md), kept in the store."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockgateway.domain.certificate import CertificateRules, GraceRule
from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError

if TYPE_CHECKING:
    from mockgateway.engine import Gateway

log = logging.getLogger(__name__)

STATE_KEY = "face.settings"
DEFAULT_MEDICAL_INSTITUTION = "1310112345"
DEFAULT_PCSCD_PORT = 35971
DEFAULT_PCSCD_READER = "mockgateway Virtual Reader 00 00"
SCREEN_ORDER = (ConsentKind.DRUG, ConsentKind.CHECKUP, ConsentKind.DIAGNOSIS, ConsentKind.OPERATION)


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
    # no official table is public, hence settings; docs/layouts.md)
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
                values[name] = mic_value(str(value))
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

    def prescription_code(self, chosen: str | None) -> str | None:
        """PrescriptionIssueSelect for the patient's choice (None: the setting's), or None for none."""
        choice = chosen or self.prescription
        if choice == "electronic":
            return self.prescription_code_electronic
        if choice == "paper":
            return self.prescription_code_paper
        return None

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


def mic_value(raw: str) -> str:
    try:
        return MedicalInstitutionCode.parse(raw).value
    except NumberError as exc:
        raise ValueError(f"medical_institution: {exc.detail}") from None
