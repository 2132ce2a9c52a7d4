"""Reading a persona's `medical:` key (docs/medical.md): explicit records, plus `generate:` history
made from a seed (generate.py), merged; and the MedicalIndex of every persona's records."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mockgateway.domain.model import Person
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError
from mockgateway.fixtures import DocReader, FixtureError
from mockgateway.services.medical.generate import generate_history
from mockgateway.services.medical.records import (
    Checkup,
    CheckupItem,
    DrugLine,
    DrugRecord,
    DrugSource,
    MedicalRecords,
    Procedure,
)

log = logging.getLogger(__name__)

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
