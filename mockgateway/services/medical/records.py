"""A person's 薬剤・診療・特定健診 records, read from the `medical:` key of a persona (docs/medical.md).

Keys are the result's element names where one exists (oqs-interface.md §3.2, §3.3): a drug record
is one date block (`DiDate`, `PrDate`, `MeTrDiHCd`, … with `DrugInf` and `MeTrInf` lists); the
record's `source` (ours) says which of the three result families it belongs to and the renderer
adds the `Sh…` / `Cz…` prefixes. Reading them from a persona is fixture.py's, generating them
generate.py's; both build on these types, and this module imports neither.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from mockgateway.domain.retention import InformationKind, RetentionPolicy


class DrugSource(StrEnum):
    """Which result family a drug record belongs to (§3.2)."""

    RECEIPT = "receipt"  # レセプト由来: MeTrMonthInf
    EPRESCRIPTION = "eprescription"  # 電子処方箋: ShPrInf/ShPrMonthInf
    DISPENSING = "dispensing"  # 調剤結果: CzDiInf/CzDiMonthInf

    @property
    def label(self) -> str:
        return {"receipt": "レセプト", "eprescription": "電子処方箋", "dispensing": "調剤結果"}[self.value]


@dataclass(frozen=True, slots=True)
class DrugLine:  # DrugInf
    code: str  # DrugC (レセ電 医薬品コード, 9 digits)
    name: str  # DrugN
    generic: str | None = None  # IngreN (一般名 / 成分名)
    quantity: str | None = None  # Qua1 (1日量)
    unit: str | None = None  # Unit
    usage: str | None = None  # UsageN (用法)
    special: str | None = None  # SpInst (特別指示)
    times: str | None = None  # Times (日数・回数)
    classification: str | None = None  # MeTrIdCl (診療識別: 21 内服, 22 屯服, 23 外用, 33 注射; inferred)


@dataclass(frozen=True, slots=True)
class Procedure:  # MeTrInf (診療情報)
    code: str  # SinInfCd (診療行為コード)
    name: str  # SinInfN
    classification: str | None = None  # MeTrIdCl
    quantity: str | None = None  # Qua1
    times: str | None = None  # Times
    unit: str | None = None  # Unit


@dataclass(frozen=True, slots=True)
class DrugRecord:
    """One date block: what one 医療機関/薬局 recorded on one day."""

    source: DrugSource
    date: dt.date  # DiDate (診療日・調剤日) / ShPrDate (処方日)
    institution: str  # MeTrDiHCd: 10-digit 医療機関コード that treated / dispensed / prescribed
    institution_name: str  # MeTrDiHNm
    prescribed: dt.date | None = None  # PrDate
    prescriber: str | None = None  # PrlsHCd (処方医療機関コード)
    prescriber_name: str | None = None  # PrlsHNm
    in_out: str | None = None  # InOut: 1 院内, 2 院外 (inferred)
    drugs: tuple[DrugLine, ...] = ()
    procedures: tuple[Procedure, ...] = ()

    @property
    def month(self) -> str:
        return self.date.strftime("%Y%m")


@dataclass(frozen=True, slots=True)
class CheckupItem:  # HealthCheckupResultAndQuestionInfo
    code: str  # ItemCode
    name: str  # ItemName
    value: str  # DataValue
    unit: str | None = None  # Unit
    data_type: str | None = None  # DataType (PQ 数値, CD コード, ST 文字列)
    oid: str | None = None  # Oid (code system of a CD value)
    value_name: str | None = None  # DataValueName (what a CD value means)


@dataclass(frozen=True, slots=True)
class Checkup:  # SpecificHealthCheckupInfo
    date: dt.date  # EffectiveTime
    items: tuple[CheckupItem, ...]
    institution_name: str | None = None  # ours, for the PDF


@dataclass(frozen=True, slots=True)
class MedicalRecords:
    drugs: tuple[DrugRecord, ...] = ()
    checkups: tuple[Checkup, ...] = ()

    def merged(self, other: MedicalRecords) -> MedicalRecords:
        return MedicalRecords(
            tuple(sorted((*self.drugs, *other.drugs), key=_drug_order)),
            tuple(sorted((*self.checkups, *other.checkups), key=lambda c: c.date)),
        )

    def drugs_within(self, start: dt.date, end: dt.date) -> list[DrugRecord]:
        return [r for r in self.drugs if start <= r.date <= end]

    def checkups_within(self, start: dt.date, end: dt.date) -> list[Checkup]:
        return [c for c in self.checkups if start <= c.date <= end]

    def retained(self, policy: RetentionPolicy, today: dt.date) -> MedicalRecords:
        """What the clock's date still shows (procedures may have a window of their own)."""
        drug_since = policy.kept_since(InformationKind.DRUG, today)
        clinical_since = policy.kept_since(InformationKind.CLINICAL, today)
        drugs = []
        for r in self.drugs:
            if r.date > today:
                continue
            lines = r.drugs if r.date >= drug_since else ()
            procedures = r.procedures if r.date >= clinical_since else ()
            if lines or procedures:
                drugs.append(
                    DrugRecord(
                        r.source, r.date, r.institution, r.institution_name, r.prescribed, r.prescriber,
                        r.prescriber_name, r.in_out, lines, procedures,
                    )
                )  # fmt: skip
        checkup_since = policy.kept_since(InformationKind.CHECKUP, today)
        return MedicalRecords(tuple(drugs), tuple(c for c in self.checkups if checkup_since <= c.date <= today))


def _drug_order(r: DrugRecord) -> tuple[dt.date, str, str]:
    return (r.date, r.source.value, r.institution)
