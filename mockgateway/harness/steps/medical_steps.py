"""Steps about 医療情報 (薬剤・診療・特定健診), consent on the card reader, and the 災害時 / 救急時 modes.

The レセコン acts through the reference folder client (`world.client`): these interfaces have no
harness order yet, so another adapter omits the scenario with the reason. Results may be XML or
PDF; a PDF's text is extracted (pypdf) so Then-steps can read it as a person would.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import orjson
import yaml
from pypdf import PdfReader
from pytest_bdd import given, parsers, then, when

from mockgateway.client.folder import Exchange
from mockgateway.control.admin_routes import AdminRequest
from mockgateway.control.journal import JournalEntry
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.fixtures import load_documents
from mockgateway.harness.steps.people_steps import card, person
from mockgateway.harness.steps.world import World
from mockgateway.services.medical.client import card_search, disaster_request, medical_request
from mockgateway.services.medical.disaster import API_ID as DISASTER_API
from mockgateway.services.medical.emergency import record_emergency
from mockgateway.services.medical.service import CHECKUP_API, DRUG_API, medical_feature
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

KIND = "(?P<kind>薬剤情報|特定健診情報|診療情報|手術情報)"
WHO = r'"(?P<person_id>[^"]+)" が医療機関 "(?P<code>\d+)" のカードリーダーで'
_CONSENT_KINDS = {"薬剤情報": ConsentKind.DRUG, "特定健診情報": ConsentKind.CHECKUP, "診療情報": ConsentKind.DIAGNOSIS,
         "手術情報": ConsentKind.OPERATION}  # fmt: skip
FORMS = {"XML": "2", "PDF": "1"}


@dataclass(frozen=True, slots=True)
class MedicalAnswer:
    request_name: str
    result_name: str
    raw: bytes
    tree: Tree | None  # an XML result
    text: str | None  # a PDF result's text


def pdf_text(raw: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)


def _exchange(world: World, api_id: str, body: bytes) -> MedicalAnswer:
    client = world.client
    name = client.send(api_id, body)
    path = client.wait(name)
    raw = path.read_bytes()
    if path.suffix == ".pdf":
        answer = MedicalAnswer(name, path.name, raw, None, pdf_text(raw))
        world.last = Exchange(name, path.name, raw, {}, "PDF")
    else:
        parsed = xmlcodec.parse(raw)
        answer = MedicalAnswer(name, path.name, raw, parsed.tree, None)
        world.last = Exchange(name, path.name, raw, parsed.tree, parsed.encoding)
    world.notes["medical"] = answer
    return answer


def answer(world: World) -> MedicalAnswer:
    found = world.notes.get("medical")
    assert isinstance(found, MedicalAnswer), "no 医療情報 result yet: a もし step must request one first"
    return found


def last_entry(world: World) -> JournalEntry:
    entries = world.gateway.journal.entries(limit=1)
    assert entries, "the journal is empty"
    return entries[-1]


# -- consent on the card reader ------------------------------------------------------------------


def _consent(world: World, person_id: str, code: str, kind: str, *, grace: bool = False) -> None:
    assert kind in _CONSENT_KINDS, f"unknown kind {kind!r}; use one of {sorted(_CONSENT_KINDS)}"
    person(world, person_id)
    given_at = Consent(person_id, code, _CONSENT_KINDS[kind], ConsentFlag.GIVEN, world.gateway.clock.now())
    world.gateway.consents.record(given_at)
    if grace:
        medical_feature(world.gateway).grace.mark(given_at)


@given(parsers.re(WHO + KIND + "の閲覧に同意した"))
def consented(world: World, person_id: str, code: str, kind: str) -> None:
    _consent(world, person_id, code, kind)


@when(parsers.re(WHO + "改めて" + KIND + "の閲覧に同意する"))
def consents_again(world: World, person_id: str, code: str, kind: str) -> None:
    _consent(world, person_id, code, kind)


@given(
    parsers.re(
        r'"(?P<person_id>[^"]+)" が医療機関 "(?P<code>\d+)" のカードリーダーで、猶予期間中の電子証明書により'
        r"(?P<kind>薬剤情報|特定健診情報|診療情報|手術情報)の閲覧に同意した"
    )
)
def consented_with_grace_certificate(world: World, person_id: str, code: str, kind: str) -> None:
    _consent(world, person_id, code, kind, grace=True)


@given(parsers.parse('"{person_id}" が医療機関 "{code}" に救急搬送され、閲覧同意は同意取得困難として記録された'))
def emergency(world: World, person_id: str, code: str) -> None:
    person(world, person_id)
    record_emergency(world.gateway.consents, person_id, code, world.gateway.clock.now())


@given("次のペルソナも登録されている:")
def more_personas(world: World, docstring: str) -> None:
    doc = yaml.load(docstring, Loader=yaml.BaseLoader)
    world.gateway.load(load_documents([("scenario", doc)], world.gateway.clock.today()), replace=False)


# -- the レセコン asks -----------------------------------------------------------------------------


def _ask(world: World, api_id: str, person_id: str, category: str, role: str | None = None) -> None:
    body = medical_request(
        card(world, person_id), medical_institution=world.medical_institution, file_category=category,
        viewer_role=role,
    )  # fmt: skip
    _exchange(world, api_id, body)


@when(parsers.re(r'レセコンが "(?P<person_id>[^"]+)" の薬剤情報を (?P<form>XML|PDF) で取得する'))
def ask_drugs(world: World, person_id: str, form: str) -> None:
    _ask(world, DRUG_API, person_id, FORMS[form])


@when(parsers.re(r'レセコンが "(?P<person_id>[^"]+)" の薬剤情報と診療情報を (?P<form>XML|PDF) で取得する'))
def ask_drugs_and_clinical(world: World, person_id: str, form: str) -> None:
    _ask(world, DRUG_API, person_id, {"XML": "4", "PDF": "3"}[form])


@when(
    parsers.re(
        r'レセコンが閲覧者 "(?P<role>[^"]+)" として "(?P<person_id>[^"]+)" の'
        r"(?P<kind>薬剤情報|特定健診情報)を XML で取得する"
    )
)
def ask_as(world: World, role: str, person_id: str, kind: str) -> None:
    _ask(world, {"薬剤情報": DRUG_API, "特定健診情報": CHECKUP_API}[kind], person_id, "2", role)


@when(parsers.re(r'レセコンが "(?P<person_id>[^"]+)" の特定健診情報を (?P<form>XML|PDF) で取得する'))
def ask_checkups(world: World, person_id: str, form: str) -> None:
    _ask(world, CHECKUP_API, person_id, FORMS[form])


@when(parsers.parse('医療機関コード "{code}" のレセコンに替える'))
def switch_institution(world: World, code: str) -> None:
    world.medical_institution = code


# -- 災害時 ------------------------------------------------------------------------------------------


def _admin(world: World, method: str, path: str, doc: dict[str, Any]) -> Any:
    handler = world.gateway.admin_routes[(method, path)]
    status, body = handler(AdminRequest(method, path, {}, orjson.dumps(doc)))
    assert status < 300, body
    return body


def _stamp(text: str) -> str:
    return re.sub(r"\D", "", text).ljust(14, "0")


@given(parsers.parse('災害 "{name}" が "{areas}" を対象に "{start}" から "{end}" まで宣言されている'))
def disaster_declared(world: World, name: str, areas: str, start: str, end: str) -> None:
    declared = _admin(world, "POST", "/admin/disasters", {
        "name": name, "areas": re.split(r"[、,]\s*", areas), "start": _stamp(start), "end": _stamp(end),
    })  # fmt: skip
    world.notes[f"disaster:{name}"] = declared["id"]


@given(parsers.parse('医療機関 "{code}" の所在地は "{place}" と登録されている'))
def institution_place(world: World, code: str, place: str) -> None:
    registry = dict(_admin(world, "GET", "/admin/disasters/institutions", {})["institutions"])
    registry[code] = {"name": "", "municipality": place}
    _admin(world, "PUT", "/admin/disasters/institutions", registry)


@when(parsers.parse('災害 "{name}" が閉塞される'))
def disaster_closed(world: World, name: str) -> None:
    _admin(world, "POST", "/admin/disasters/close", {"id": world.notes[f"disaster:{name}"]})


@when(parsers.parse('災害 "{name}" の期間が "{end}" まで延長される'))
def disaster_extended(world: World, name: str, end: str) -> None:
    _admin(world, "POST", "/admin/disasters/extend", {"id": world.notes[f"disaster:{name}"], "end": _stamp(end)})


@when("レセコンが災害時医療情報閲覧で次の情報により患者を検索する:")
def disaster_search(world: World, datatable: list[list[str]]) -> None:
    search = {row[0]: row[1] for row in datatable}
    _exchange(world, DISASTER_API, disaster_request(search, medical_institution=world.medical_institution))


@when(parsers.parse('レセコンが災害時医療情報閲覧で "{person_id}" の被保険者証の番号と生年月日により患者を検索する'))
def disaster_search_by_card(world: World, person_id: str) -> None:
    search = card_search(card(world, person_id), person(world, person_id).birthdate)
    _exchange(world, DISASTER_API, disaster_request(search, medical_institution=world.medical_institution))


# -- what came back --------------------------------------------------------------------------------


def _header(world: World) -> Tree:
    tree = answer(world).tree
    assert tree is not None, f"the result is a PDF ({answer(world).result_name}), not XML"
    node = tree.get("MessageHeader")
    assert isinstance(node, dict), tree
    return node


def _texts(node: Node, name: str) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _texts(item, name)]
    if isinstance(node, dict):
        return [t for key, child in node.items() for t in ([child] if key == name and isinstance(child, str) else
                                                            _texts(child, name))]  # fmt: skip
    return []


def _all(world: World, name: str) -> list[str]:
    tree = answer(world).tree
    assert tree is not None, f"the result is a PDF ({answer(world).result_name}), not XML"
    return _texts(tree.get("MessageBody"), name)


@then(parsers.parse('医療情報の結果コードは "{code}" である'))
def result_code(world: World, code: str) -> None:
    assert _header(world).get("ResultCode") == code, _header(world)


@then(parsers.parse('医療情報のメッセージに "{text}" が含まれる'))
def message_contains(world: World, text: str) -> None:
    message = _header(world).get("MessageContents")
    assert isinstance(message, str), _header(world)
    assert text in message, message


SOURCES = {"薬剤情報": "DrugN", "電子処方箋の情報": "ShDrugN", "調剤結果の情報": "CzDrugN", "診療情報": "SinInfN"}


@then(parsers.re(r'(?P<where>薬剤情報|電子処方箋の情報|調剤結果の情報|診療情報)に "(?P<name>[^"]+)" がある'))
def listed(world: World, where: str, name: str) -> None:
    found = _all(world, SOURCES[where])
    assert name in found, found


@then(parsers.re(r'(?P<where>薬剤情報|電子処方箋の情報|調剤結果の情報|診療情報)に "(?P<name>[^"]+)" はない'))
def not_listed(world: World, where: str, name: str) -> None:
    found = _all(world, SOURCES[where])
    assert name not in found, found


@then(parsers.re(r"(?P<where>薬剤情報|電子処方箋の情報|調剤結果の情報|診療情報)はない"))
def none_listed(world: World, where: str) -> None:
    assert _all(world, SOURCES[where]) == []


@then(parsers.parse('特定健診情報に実施日 "{day}" の結果がある'))
def checkup_on(world: World, day: str) -> None:
    assert day in _all(world, "EffectiveTime"), _all(world, "EffectiveTime")


@then(parsers.parse('特定健診情報に実施日 "{day}" の結果はない'))
def no_checkup_on(world: World, day: str) -> None:
    assert day not in _all(world, "EffectiveTime"), _all(world, "EffectiveTime")


@then("結果は PDF で、ファイル名は要求ファイル名の req を res に、拡張子を pdf に替えたものである")
def is_pdf(world: World) -> None:
    found = answer(world)
    assert found.raw.startswith(b"%PDF-"), found.raw[:20]
    assert found.result_name == found.request_name.replace("req_", "res_", 1).removesuffix(".xml") + ".pdf"


@then(parsers.parse('PDF の本文に "{text}" が含まれる'))
def pdf_contains(world: World, text: str) -> None:
    found = answer(world).text
    assert found is not None, f"the result is not a PDF: {answer(world).result_name}"
    assert text in found, found[:2000]


@then(parsers.parse('PDF の本文に "{text}" は含まれない'))
def pdf_lacks(world: World, text: str) -> None:
    found = answer(world).text
    assert found is not None, f"the result is not a PDF: {answer(world).result_name}"
    assert text not in found


@then(parsers.parse('ジャーナルの最後の記録は閲覧者 "{role}" による "{person_id}" の閲覧である'))
def journal_viewer(world: World, role: str, person_id: str) -> None:
    facts = last_entry(world).extra.get("medical") or last_entry(world).extra.get("disaster")
    assert isinstance(facts, dict), last_entry(world).extra
    assert facts.get("viewer_role") == role, facts
    assert facts.get("person") == person_id, facts


@then("ジャーナルの最後の記録は救急時 (同意取得困難) の閲覧である")
def journal_emergency(world: World) -> None:
    facts = last_entry(world).extra.get("medical")
    assert isinstance(facts, dict), last_entry(world).extra
    assert facts.get("emergency") is True, facts
    assert facts["consent"]["flag"] == "3", facts


@then(parsers.parse('ジャーナルの最後の記録には災害 "{name}" の宣言が記録されている'))
def journal_declaration(world: World, name: str) -> None:
    facts = last_entry(world).extra.get("disaster")
    assert isinstance(facts, dict), last_entry(world).extra
    declaration = facts.get("declaration")
    assert isinstance(declaration, dict), facts
    assert declaration["name"] == name, declaration
