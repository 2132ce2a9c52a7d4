"""災害時医療情報閲覧 without a card: MGWdsquc01 (ours — no public interface exists; docs/medical.md).

```
MGWdsquc01req_<any>.xml  (folder)  or  POST /oqs/MGWdsquc01  (HTTP)
XmlMsg/MessageHeader: MedicalInstitutionCode, ArbitraryFileIdentifier, ViewerRole (ours, as for 薬剤)
XmlMsg/MessageBody/DisasterSearchInfo, either the 4 facts of the MHLW paper (oqs-interface.md §4):
    Name (漢字) or NameKana (カナ, full- or half-width), Birthdate, Sex (1/2),
    InsurerName (part of the 保険者名称) or Address (part of the address)
  or the card numbers (KB0012530):
    InsurerNumber, InsuredCardSymbol, InsuredIdentificationNumber, InsuredBranchNumber, Birthdate
XmlMsg/MessageBody/ConsentClassification: 1 本人の同意を確認 / 3 意思表示困難 (生命保護のため)
XmlMsg/MessageBody/FileCategory: 1 (PDF; the only form the mode offers)
```
→ `MGWdsquc01res_<any>.pdf`: 資格 (保険者番号・記号・番号・枝番) + 薬剤 + 診療 + 特定健診 (not for a
薬局), or an XML refusal (`ResultCode` 2 + `MessageContents`, as for 薬剤情報). Two or more people
fitting the facts is refused, never guessed. Every access is journalled with the declaration
it relied on (`extra["disaster"]`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockgateway.domain.codes import ResultCode, SegmentOfResult
from mockgateway.domain.eligibility import Match
from mockgateway.domain.kana import is_half_width_kana, to_half_width_kana
from mockgateway.domain.retention import InformationKind, viewing_window
from mockgateway.engine import Context, Gateway, Reply
from mockgateway.services.medical import pdf as medical_pdf
from mockgateway.services.medical import xml as medical_xml
from mockgateway.services.medical.access import Refusal, role_refusal
from mockgateway.services.medical.disaster_book import Declaration, DisasterBook, add_routes, decide, squeeze
from mockgateway.services.medical.request import BODY, HEADER, parse_role
from mockgateway.services.medical.service import MedicalFeature, medical_feature
from mockgateway.store.index import PeopleIndex
from mockgateway.wire.messages import RequestError, child, date, flag, parse_card, parse_institution, text
from mockgateway.wire.xmlcodec import Node, Tree

API_ID = "MGWdsquc01"  # ours: "MGW" marks an id the real terminal does not have
INFO = f"{BODY}/DisasterSearchInfo"
CONSENT = {"1": "本人同意", "3": "同意取得困難 (意思表示困難・生命保護)"}


@dataclass(frozen=True, slots=True)
class Facts:
    name: str | None  # squeezed kanji name
    kana: str | None  # squeezed half-width kana
    birthdate: dt.date
    sex: str
    insurer_name: str | None
    address: str | None

    def fits(self, match: Match) -> bool:
        person = match.person
        if person.birthdate != self.birthdate or person.sex1.value != self.sex:
            return False
        if self.name is not None and squeeze(person.name) != self.name:
            return False
        if self.kana is not None and squeeze(person.name_kana) != self.kana:
            return False
        if self.insurer_name is not None:
            return any(self.insurer_name in squeeze(q.insurer.name) for q in person.qualifications)
        return self.address is not None and self.address in squeeze(person.address or "")

    def describe(self) -> str:
        shown = [self.name or self.kana or "", f"{self.birthdate:%Y%m%d}", {"1": "男", "2": "女"}[self.sex]]
        shown.append(f"保険者名称「{self.insurer_name}」" if self.insurer_name else f"住所「{self.address}」")
        return " ".join(shown)


def parse_facts(info: Mapping[str, Node]) -> Facts:
    name = text(info, "Name", INFO)
    kana = text(info, "NameKana", INFO)
    if name is None and kana is None:
        raise RequestError("xml.required", f"{INFO}/Name (または NameKana)", "氏名 (漢字 か カナ) が必要です")
    if name is not None and kana is None and is_half_width_kana("".join(to_half_width_kana(name).split())):
        name, kana = None, name  # a kana name typed into Name
    birth = date(info, "Birthdate", INFO, required=True)
    sex = flag(info, "Sex", INFO, ("1", "2"))
    if sex is None:
        raise RequestError("xml.required", f"{INFO}/Sex", "性別 (1 男 / 2 女) が必要です")
    insurer_name, address = text(info, "InsurerName", INFO), text(info, "Address", INFO)
    if insurer_name is None and address is None:
        raise RequestError("xml.required", f"{INFO}/InsurerName (または Address)", "保険者名称か住所の一部が必要です")
    assert birth is not None
    return Facts(
        name=squeeze(name) if name else None,
        kana=squeeze(to_half_width_kana(kana)) if kana else None,
        birthdate=birth,
        sex=sex,
        insurer_name=squeeze(insurer_name) if insurer_name else None,
        address=squeeze(address) if address else None,
    )


@dataclass(frozen=True, slots=True)
class Found:
    matches: list[Match]  # one per person: the qualification to print
    how: str  # "facts" / "card"
    shown: str  # what was searched, for refusals


def _per_person(matches: list[Match], today: dt.date) -> list[Match]:
    """One match per person: the qualification in force today, else the newest."""
    people: dict[str, list[Match]] = {}
    for m in matches:
        people.setdefault(m.person.id, []).append(m)
    out = []
    for group in people.values():
        in_force = [m for m in group if m.qualification.in_force(today)]
        out.append(max(in_force or group, key=lambda m: m.qualification.qualification_date))
    return out


def search(index: PeopleIndex, info: Mapping[str, Node], today: dt.date, *, strict_padding: bool) -> Found:
    if text(info, "InsuredIdentificationNumber", INFO) is not None:
        card = parse_card(
            info, INFO, ("InsuredCardSymbol", "InsuredIdentificationNumber", "InsuredBranchNumber"),
            strict_padding=strict_padding,
        )  # fmt: skip
        birth = date(info, "Birthdate", INFO, required=True)
        matches = [
            m
            for m in index.candidates(card.number)
            if m.qualification.key.insurer_number == card.insurer_number
            and m.qualification.key.symbol == card.symbol
            and (not card.branch or m.qualification.key.branch == card.branch)
            and m.person.birthdate == birth
        ]
        shown = (
            f"保険者番号 {card.insurer_number} 記号 {card.symbol or '-'} 番号 {card.number} 枝番 {card.branch or '-'}"
        )
        # the printed qualification is the one on the card
        people = {m.person.id: m for m in sorted(matches, key=lambda m: m.qualification.qualification_date)}
        return Found(list(people.values()), "card", shown)
    facts = parse_facts(info)
    fitting = [Match(p, q) for p in index.born_on(facts.birthdate) for q in p.qualifications if facts.fits(Match(p, q))]
    return Found(_per_person(fitting, today), "facts", facts.describe())


class DisasterSearchService:
    reference = None

    def __init__(self, feature: MedicalFeature, book: DisasterBook) -> None:
        self.feature = feature
        self.book = book

    def error_tree(self, ctx: Context, echo: dict[str, str], code: ResultCode) -> Tree:
        return medical_xml.error_tree(
            now=ctx.now, mic=echo.get("MedicalInstitutionCode"), file_id=echo.get("ArbitraryFileIdentifier"),
            character_code=ctx.character_code, code=code,
        )  # fmt: skip

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        settings = self.feature.settings
        header = child(tree, "MessageHeader", "XmlMsg")
        body = child(tree, "MessageBody", "XmlMsg")
        mic = parse_institution(header)
        file_id = text(header, "ArbitraryFileIdentifier", HEADER)
        viewer = parse_role(header, settings)
        consent = flag(body, "ConsentClassification", BODY, ("1", "3"))
        if consent is None:
            raise RequestError(
                "disaster.consent", f"{BODY}/ConsentClassification", "1 (本人同意) か 3 (同意取得困難) です"
            )
        if (flag(body, "FileCategory", BODY, ("1",)) or "1") != "1":
            raise RequestError("xml.format", f"{BODY}/FileCategory", "災害時は PDF (1) のみです")
        info = child(body, "DisasterSearchInfo", BODY)
        place = self.book.place(mic)
        facts: dict[str, Any] = {
            "medical_institution": str(place),
            "viewer_role": viewer.role,
            "viewer_role_sent": viewer.sent,
            "consent_classification": consent,
        }

        def refuse(refusal: Refusal) -> Reply:
            code = ctx.codes.get(refusal.code_name, detail=refusal.detail, element="")
            facts["refused"] = refusal.code_name
            error = medical_xml.error_tree(
                now=ctx.now, mic=mic.value, file_id=file_id, character_code=ctx.character_code, code=code
            )
            return Reply(error, segment=SegmentOfResult.ABNORMAL, reason=refusal.detail, extra={"disaster": facts})

        gate = self.feature.institution_gate
        refusal = gate(mic.value, "disaster") if gate is not None else None  # 資格確認限定型: first of all
        if refusal is not None:
            return refuse(refusal)
        declarations = self.book.declarations()
        declaration, refusal = decide(declarations, place, ctx.now)
        facts["declaration"] = declaration.summary() if declaration else None
        facts["declarations_considered"] = [d.id for d in declarations]
        if refusal is not None:
            return refuse(refusal)
        assert declaration is not None
        refusal = role_refusal(viewer.role, settings.disaster_roles, "災害時医療情報")
        if refusal is not None:
            return refuse(refusal)
        today = ctx.now.date()
        found = search(ctx.index, info, today, strict_padding=ctx.gateway.settings.strict_insurer_padding)
        facts["search"] = found.how
        facts["candidates"] = sorted(m.person.id for m in found.matches)
        if not found.matches:
            return refuse(Refusal("disaster.not_found", found.shown))
        if len(found.matches) > 1:
            return refuse(Refusal("disaster.ambiguous", f"{found.shown} に {len(found.matches)} 人が該当します"))
        match = found.matches[0]
        facts["person"] = match.person.id
        try:
            pdf = self.report(ctx, match, declaration, mic.is_pharmacy, viewer.role, mic.value)
        except medical_pdf.FontMissing as exc:
            return refuse(Refusal("medical.font", str(exc)))
        reason = f"災害時医療情報閲覧 ({declaration.id}「{declaration.name}」, {CONSENT[consent]})"
        return Reply({}, document=pdf, extension=".pdf", media_type="application/pdf", reason=reason,
                     extra={"disaster": facts})  # fmt: skip

    def report(
        self, ctx: Context, match: Match, declaration: Declaration, pharmacy: bool, role: str, mic: str
    ) -> bytes:
        policy = self.feature.settings.retention
        today = ctx.now.date()
        records = self.feature.records_of(match.person.id).retained(policy, today)
        drug_window = viewing_window(policy, InformationKind.DRUG, today)
        checkup_window = viewing_window(policy, InformationKind.CHECKUP, today)
        period = f"{declaration.start:%Y/%m/%d %H:%M}〜{declaration.effective_end:%Y/%m/%d %H:%M}"
        return medical_pdf.disaster_pdf(
            medical_pdf.find_font(self.feature.settings.font_path),
            match.person,
            match.qualification,
            records.drugs_within(drug_window.start, drug_window.end),
            None if pharmacy else records.checkups_within(checkup_window.start, checkup_window.end),
            medical_pdf.Request(mic, role, period, ctx.now),
            declaration=f"{declaration.name} ({declaration.id}, {'・'.join(map(str, declaration.areas))}, {period})",
        )


def disaster_book(gateway: Gateway) -> DisasterBook:
    service = gateway.services.get(API_ID)
    if not isinstance(service, DisasterSearchService):
        raise LookupError("the 災害時 feature is not installed on this gateway (mockgateway.services.medical.disaster)")
    return service.book


def install(gateway: Gateway) -> None:
    """After medical_service.install: the search relies on its records and settings."""
    book = DisasterBook(gateway.store)
    gateway.register(API_ID, DisasterSearchService(medical_feature(gateway), book))
    add_routes(gateway, book)
