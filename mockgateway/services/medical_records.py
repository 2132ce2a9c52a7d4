"""A person's 薬剤・診療・特定健診 records, read from the `medical:` key of a persona (docs/medical.md).

Keys are the result's element names where one exists (oqs-interface.md §3.2, §3.3): a drug record
is one date block (`DiDate`, `PrDate`, `MeTrDiHCd`, … with `DrugInf` and `MeTrInf` lists); the
record's `source` (ours) says which of the three result families it belongs to and the renderer
adds the `Sh…` / `Cz…` prefixes. `generate:` adds synthetic history made from a seed
(medical_generate.py); explicit records and generated ones are merged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mockgateway.domain.model import Person
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError
from mockgateway.domain.retention import InformationKind, RetentionPolicy
from mockgateway.fixtures import DocReader, FixtureError

log = logging.getLogger(__name__)


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


# -- reading the fixture key ---------------------------------------------------------------------

_DRUG_KEYS = {
    "source", "DiDate", "PrDate", "MeTrDiHCd", "MeTrDiHNm", "PrlsHCd", "PrlsHNm", "InOut", "DrugInf",
    "MeTrInf", "comment",
}  # fmt: skip
_LINE_KEYS = {"DrugC", "DrugN", "IngreN", "Qua1", "Unit", "UsageN", "SpInst", "Times", "MeTrIdCl"}
_PROCEDURE_KEYS = {"SinInfCd", "SinInfN", "MeTrIdCl", "Qua1", "Times", "Unit"}
_CHECKUP_KEYS = {"EffectiveTime", "institution_name", "HealthCheckupResultAndQuestionInfo", "comment"}
_ITEM_KEYS = {"ItemCode", "ItemName", "DataType", "DataValue", "Unit", "Oid", "DataValueName"}
_TOP_KEYS = {"generate", "drugs", "checkups", "comment"}
GENERATE_KEYS = {"seed", "months", "until", "comment"}


class _Reader(DocReader):
    """The fixture reader, plus 医療機関コード fields."""

    def institution(self, name: str, *, required: bool = False) -> str | None:
        raw = self.text(name, required=required)
        if raw is None:
            return None
        try:
            return MedicalInstitutionCode.parse(raw).value
        except NumberError as exc:
            raise self.fail(name, exc.detail) from None


def _line(r: _Reader) -> DrugLine:
    r.known(_LINE_KEYS)
    return DrugLine(
        r.required("DrugC"), r.required("DrugN"), r.text("IngreN"), r.text("Qua1"), r.text("Unit"),
        r.text("UsageN"), r.text("SpInst"), r.text("Times"), r.text("MeTrIdCl"),
    )  # fmt: skip


def _procedure(r: _Reader) -> Procedure:
    r.known(_PROCEDURE_KEYS)
    return Procedure(
        r.required("SinInfCd"), r.required("SinInfN"), r.text("MeTrIdCl"), r.text("Qua1"), r.text("Times"),
        r.text("Unit"),
    )  # fmt: skip


def _drug_record(r: _Reader) -> DrugRecord:
    r.known(_DRUG_KEYS)
    raw_source = r.text("source") or DrugSource.RECEIPT.value
    try:
        source = DrugSource(raw_source)
    except ValueError:
        raise r.fail("source", f"{raw_source!r}: {', '.join(s.value for s in DrugSource)} のいずれかです") from None
    day = r.date("DiDate", required=True)
    institution = r.institution("MeTrDiHCd", required=True)
    assert day is not None
    assert institution is not None
    lines = tuple(_line(c) for c in r.children("DrugInf"))
    procedures = tuple(_procedure(c) for c in r.children("MeTrInf"))
    if not lines and not procedures:
        raise r.fail("DrugInf", "DrugInf (薬剤) か MeTrInf (診療行為) が1件以上必要です")
    if procedures and source is not DrugSource.RECEIPT:
        raise r.fail("MeTrInf", "診療行為 (MeTrInf) はレセプト由来 (source: receipt) の記録にだけ付きます")
    return DrugRecord(
        source=source,
        date=day,
        institution=institution,
        institution_name=r.text("MeTrDiHNm") or "",
        prescribed=r.date("PrDate"),
        prescriber=r.institution("PrlsHCd"),
        prescriber_name=r.text("PrlsHNm"),
        in_out=r.text("InOut"),
        drugs=lines,
        procedures=procedures,
    )


def _checkup(r: _Reader) -> Checkup:
    r.known(_CHECKUP_KEYS)
    day = r.date("EffectiveTime", required=True)
    assert day is not None
    items = []
    for c in r.children("HealthCheckupResultAndQuestionInfo"):
        c.known(_ITEM_KEYS)
        items.append(
            CheckupItem(
                c.required("ItemCode"), c.required("ItemName"), c.required("DataValue"), c.text("Unit"),
                c.text("DataType"), c.text("Oid"), c.text("DataValueName"),
            )
        )  # fmt: skip
    if not items:
        raise r.fail("HealthCheckupResultAndQuestionInfo", "健診項目が1件以上必要です")
    return Checkup(day, tuple(items), r.text("institution_name"))


def records_from_extension(person: Person, raw: object, today: dt.date, source: str = "<store>") -> MedicalRecords:
    """Parse `person.extensions["medical"]`; errors name the person and the field (FixtureError)."""
    from mockgateway.services.medical_generate import generate_history  # generation builds on these types

    r = _Reader(source, f"person {person.id}/medical", raw, today)
    r.known(_TOP_KEYS)
    explicit = MedicalRecords(
        tuple(_drug_record(c) for c in r.children("drugs")),
        tuple(_checkup(c) for c in r.children("checkups")),
    )
    records = MedicalRecords().merged(explicit)
    for g in r.children("generate")[:1]:
        g.known(GENERATE_KEYS)
        seed = g.required("seed")
        raw_months = g.text("months") or "48"
        if not raw_months.isdigit() or not 1 <= int(raw_months) <= 240:
            raise g.fail("months", f"1〜240 の月数です: {raw_months!r}")
        until = g.date("until") or today
        records = records.merged(generate_history(seed, person, until=until, months=int(raw_months)))
    return records


@dataclass
class MedicalIndex:
    """person id → records (or the fixture error that stopped them), rebuilt on every reload."""

    records: dict[str, MedicalRecords] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, people: Iterable[Person], today: dt.date) -> MedicalIndex:
        index = cls()
        for person in people:
            raw: Any = person.extensions.get("medical")
            if raw is None:
                continue
            try:
                index.records[person.id] = records_from_extension(person, raw, today)
            except FixtureError as exc:
                log.warning("medical records of %s ignored: %s", person.id, exc)
                index.errors[person.id] = str(exc)
        return index

    def of(self, person_id: str) -> MedicalRecords:
        return self.records.get(person_id, MedicalRecords())
