"""Result trees of 薬剤情報 (YZKsiquc01res) and 特定健診情報 (TKKsiquc01res) — oqs-interface.md §3.2, §3.3.

Element names are those public clients read ([Y2] ProcessDrugInfoAsync2 / ProcessTKKAsync):
- status: `ResultCode` 1 = success; otherwise `MessageContents` says why. We send 2 on failure
  (the failure value is unconfirmed; clients test for "not 1"), in `MessageHeader`.
- 薬剤: `MessageHeader/QuaInf{Name, KanaName, Birth, AdmGendCode}`; `MessageBody/MeTrMonthInf*`
  (レセプト由来), `ShPrInf/ShPrMonthInf*` (電子処方箋), `CzDiInf/CzDiMonthInf*` (調剤結果); each month
  block → `…DateInfs/…DateInf` date blocks → `…DrugInfs/…DrugInf` lines, and (レセプト only)
  `MeTrInfs/MeTrInf` procedures (診療情報) inside the date block.
- 特定健診: `MessageHeader/QualificationsInfo{Name, KanasName, Birthday, AdministrativeGenderCode}`;
  `MessageBody/SpecificHealthCheckupInfo*{EffectiveTime, HealthCheckupResultAndQuestionInfos/…Info*}`.

Inferred values (docs/medical.md): a month block per (month, 医療機関, 処方医療機関, 院内外);
`DiOrg` 1 医科 / 2 歯科 / 3 調剤 from the 医療機関コード's 点数表番号; `PrIsOrg` 1 when the block's
医療機関 is the requesting one (自院), else 2 — the fallback [Y2] itself computes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from mockgateway.domain.clock import format_date, format_timestamp
from mockgateway.domain.codes import CharacterCode, ResultCode
from mockgateway.domain.model import Person
from mockgateway.services.medical.records import Checkup, DrugLine, DrugRecord, DrugSource, Procedure
from mockgateway.wire.xmlcodec import Node, Tree

SUCCESS = "1"
FAILURE = "2"  # inferred: clients only test for 1


@dataclass(frozen=True, slots=True)
class Family:
    """The element names of one of the three drug result families."""

    container: str | None  # ShPrInf / CzDiInf; None: month blocks sit in MessageBody
    month_block: str
    org: str
    code: str
    name: str
    month: str
    prescriber: str
    prescriber_name: str
    own: str
    in_out: str
    dates: str
    date_block: str
    date: str
    prescribed: str | None
    lines: str
    line: str
    prefix: str
    usage_class: str


FAMILIES: dict[DrugSource, Family] = {
    DrugSource.RECEIPT: Family(
        None, "MeTrMonthInf", "DiOrg", "MeTrDiHCd", "MeTrDiHNm", "MeTrMonth", "PrlsHCd", "PrlsHNm", "PrIsOrg",
        "InOut", "DiDateInfs", "DiDateInf", "DiDate", "PrDate", "DrugInfs", "DrugInf", "", "MeTrIdCl",
    ),
    DrugSource.EPRESCRIPTION: Family(
        "ShPrInf", "ShPrMonthInf", "ShPrOrg", "ShMeTrDiHCd", "ShMeTrDiHNm", "ShPrMonth", "ShPrHCd", "ShPrHNm",
        "ShPrIsOrg", "ShPrCl", "ShPrDateInfs", "ShPrDateInf", "ShPrDate", None, "ShDrugInfs", "ShDrugInf", "Sh",
        "ShUsageCl",
    ),
    DrugSource.DISPENSING: Family(
        "CzDiInf", "CzDiMonthInf", "CzDiOrg", "CzMeTrDiHCd", "CzMeTrDiHNm", "CzDiMonth", "CzPrlsHCd", "CzPrlsHNm",
        "CzPrIsOrg", "CzPrCl", "CzDiDateInfs", "CzDiDateInf", "CzDiDate", "CzPrDate", "CzDrugInfs", "CzDrugInf",
        "Cz", "CzUsageCl",
    ),
}  # fmt: skip

_ORG = {"1": "1", "3": "2", "4": "3"}  # 点数表番号 → DiOrg (inferred: 1 医科, 2 歯科, 3 調剤)


def _clean(tree: dict[str, Node]) -> Tree:
    return {k: v for k, v in tree.items() if v is not None and v != []}


def _one_or_many(items: list[Node]) -> Node:
    return items[0] if len(items) == 1 else items


def header(
    *,
    now: dt.datetime,
    mic: str | None,
    file_id: str | None,
    character_code: CharacterCode,
    failure: ResultCode | None = None,
    notices: Iterable[ResultCode] = (),
) -> dict[str, Node]:
    messages = [f"{c.code} {c.message}" for c in ([failure] if failure else list(notices))]
    return _clean(
        {
            "ProcessExecutionTime": format_timestamp(now),
            "MedicalInstitutionCode": mic,
            "ArbitraryFileIdentifier": file_id,
            "ResultCode": FAILURE if failure else SUCCESS,
            "MessageContents": " / ".join(messages) or None,
            "CharacterCodeIdentifier": character_code.value,
        }
    )


def error_tree(
    *, now: dt.datetime, mic: str | None, file_id: str | None, character_code: CharacterCode, code: ResultCode
) -> Tree:
    return {
        "MessageHeader": header(now=now, mic=mic, file_id=file_id, character_code=character_code, failure=code),
        "MessageBody": {},
    }


def _line(f: Family, line: DrugLine) -> Tree:
    p = f.prefix
    return _clean(
        {
            f"{p}DrugC": line.code,
            f"{p}DrugN": line.name,
            f"{p}IngreN": line.generic,
            f"{p}Qua1": line.quantity,
            f"{p}Unit": line.unit,
            f"{p}UsageN": line.usage,
            f"{p}SpInst": line.special,
            f"{p}Times": line.times,
            f.usage_class: line.classification,
        }
    )


def _procedure(p: Procedure) -> Tree:
    return _clean(
        {
            "SinInfN": p.name,
            "SinInfCd": p.code,
            "MeTrIdCl": p.classification,
            "Qua1": p.quantity,
            "Times": p.times,
            "Unit": p.unit,
        }
    )


def _date_block(f: Family, records: list[DrugRecord], with_procedures: bool) -> Tree:
    first = records[0]
    block: dict[str, Node] = {f.date: format_date(first.date)}
    if f.prescribed is not None:
        block[f.prescribed] = format_date(first.prescribed) if first.prescribed else None
    lines: list[Node] = [_line(f, line) for r in records for line in r.drugs]
    if lines:
        block[f.lines] = {f.line: _one_or_many(lines)}
    procedures: list[Node] = [_procedure(p) for r in records for p in r.procedures] if with_procedures else []
    if procedures:
        block["MeTrInfs"] = {"MeTrInf": _one_or_many(procedures)}
    return _clean(block)


def drug_body(records: Iterable[DrugRecord], *, requester: str, with_procedures: bool) -> Tree:
    """MessageBody of YZKsiquc01res from the records in the window (any order)."""
    groups: dict[tuple[DrugSource, str, str, str, str], list[DrugRecord]] = {}
    for r in sorted(records, key=lambda r: (r.date, r.institution)):
        if not r.drugs and not (with_procedures and r.procedures):
            continue
        key = (r.source, r.month, r.institution, r.prescriber or r.institution, r.in_out or "")
        groups.setdefault(key, []).append(r)
    body: dict[str, list[Node]] = {}
    for (source, month, code, prescriber, in_out), group in groups.items():
        f = FAMILIES[source]
        first = group[0]
        by_day: dict[tuple[dt.date, dt.date | None], list[DrugRecord]] = {}
        for r in group:
            by_day.setdefault((r.date, r.prescribed), []).append(r)
        blocks: list[Node] = [_date_block(f, day, with_procedures) for day in by_day.values()]
        month_block = _clean(
            {
                f.org: _ORG.get(code[2], "1"),
                f.code: code,
                f.name: first.institution_name,
                f.month: month,
                f.prescriber: prescriber,
                f.prescriber_name: first.prescriber_name or first.institution_name,
                f.own: "1" if requester in (code, prescriber) else "2",
                f.in_out: in_out or None,
                f.dates: {f.date_block: _one_or_many(blocks)},
            }
        )
        body.setdefault(f.month_block, []).append(month_block)
    out: dict[str, Node] = {}
    for source in DrugSource:
        f = FAMILIES[source]
        blocks_of = body.get(f.month_block)
        if not blocks_of:
            continue
        node = _one_or_many(blocks_of)
        if f.container is None:
            out[f.month_block] = node
        else:
            out[f.container] = {f.month_block: node}
    return out


def drug_patient(person: Person) -> Tree:
    return {
        "Name": person.name,
        "KanaName": person.name_kana,
        "Birth": format_date(person.birthdate),
        "AdmGendCode": person.sex1.value,
    }


def checkup_patient(person: Person) -> Tree:
    return {
        "Name": person.name,
        "KanasName": person.name_kana,  # spelling as [Y2] reads it
        "Birthday": format_date(person.birthdate),
        "AdministrativeGenderCode": person.sex1.value,
    }


def checkup_body(checkups: Iterable[Checkup]) -> Tree:
    infos: list[Node] = []
    for c in sorted(checkups, key=lambda c: c.date):
        items: list[Node] = [
            _clean(
                {
                    "ItemCode": i.code,
                    "ItemName": i.name,
                    "DataType": i.data_type,
                    "DataValue": i.value,
                    "Unit": i.unit,
                    "Oid": i.oid,
                    "DataValueName": i.value_name,
                }
            )
            for i in c.items
        ]
        infos.append(
            {
                "EffectiveTime": format_date(c.date),
                "HealthCheckupResultAndQuestionInfos": {"HealthCheckupResultAndQuestionInfo": _one_or_many(items)},
            }
        )
    return {"SpecificHealthCheckupInfo": _one_or_many(infos)} if infos else {}
