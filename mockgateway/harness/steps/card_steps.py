"""Steps about マイナ保険証: a patient at the face-auth card reader, the face file, the reader's error.

The patient acts on the gateway's reader (mockgateway/services/reader/, the card model in-process);
the レセコン under test does nothing until a face file appears. Then `もし レセコンが face フォルダに
届いた資格確認結果を表示する` (client_steps, an order) has the client show it, and the face-file
Then-steps assert first on what the client reported it showed, then on the file the terminal wrote
into `<root>/face` (the bytes it wrote, when a vendor's software has already taken the file away).
The reader's on-screen error is never written to `face` by default: those steps are the terminal's.

How the patient identifies themself (`{how}`): `顔認証`, `顔認証 (不一致)`, `暗証番号 "1234"`,
`暗証番号 "0000,1111"` (attempts in order), `目視`, and a fallback after `のあと`:
`顔認証 (不一致) のあと暗証番号 "1234"`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml
from pytest_bdd import given, parsers, then, when

from mockgateway.card.faceauth import AuthMode, ReaderResult
from mockgateway.domain.clock import format_timestamp, parse_timestamp
from mockgateway.domain.codes import ConsentFlag
from mockgateway.fixtures import load_documents
from mockgateway.harness.orders import RESULT_FIELDS, Report
from mockgateway.harness.outcome import report_problems
from mockgateway.harness.steps.people_steps import person
from mockgateway.harness.steps.world import World
from mockgateway.services.reader import session as face
from mockgateway.wire import xmlcodec
from mockgateway.wire.results import CONSENT_KINDS
from mockgateway.wire.xmlcodec import Node, Tree

RESULT = "card.result"
PLACED_AT = "card.placed_at"  # how many orders the client had carried out when the card was placed
MODES = {"顔認証": AuthMode.FACE, "暗証番号": AuthMode.PIN, "目視": AuthMode.VISUAL}
POINTS = {
    "証明書の読み取り": "certificate",
    "顔写真の読み取り": "face_image",
    "暗証番号の照合": "pin",
    "署名": "signature",
}
_PART = re.compile(r'^(?P<mode>顔認証|目視|暗証番号)(?: "(?P<pins>[0-9,]*)")?(?P<mismatch> \(不一致\))?$')


def placement_options(how: str) -> dict[str, Any]:
    """`顔認証 (不一致) のあと暗証番号 "1234"` → {"mode": "face", "face": "mismatch", "fallback": "pin", …}."""
    options: dict[str, Any] = {"face": "match"}
    parts = [p.strip() for p in how.split("のあと")]
    assert 1 <= len(parts) <= 2, f"at most one fallback ('のあと'): {how!r}"
    for index, part in enumerate(parts):
        m = _PART.match(part)
        assert m, f'unknown identification {part!r}: 顔認証, 顔認証 (不一致), 暗証番号 "1234", 目視'
        mode = MODES[m["mode"]]
        options["mode" if index == 0 else "fallback"] = mode.value
        if m["pins"] is not None:
            options["pins"] = [p for p in m["pins"].split(",") if p]
        if m["mismatch"]:
            assert mode is AuthMode.FACE, f"only 顔認証 can be (不一致): {part!r}"
            options["face"] = "mismatch"
    return options


def _place(world: World, **options: Any) -> ReaderResult:
    before = set(_face_dir(world).glob("*"))
    options.setdefault("medical_institution", world.medical_institution)
    result = face.feature(world.gateway).place(face.placement_from(options))
    world.notes[RESULT] = result
    world.notes["card.new_face_files"] = sorted(p.name for p in set(_face_dir(world).glob("*")) - before)
    world.notes[PLACED_AT] = len(world.outcomes)  # the client's face orders from here on show this result
    return result


def _face_dir(world: World) -> Any:
    return world.root / "face"


def result(world: World) -> ReaderResult:
    found = world.notes.get(RESULT)
    assert isinstance(found, ReaderResult), "no card was placed yet: a もし step must place one first"
    return found


# -- given ---------------------------------------------------------------------------------------


@given(parsers.parse('"{person_id}" のマイナンバーカードは次のとおりである:'))
def card_is(world: World, person_id: str, docstring: str) -> None:
    """Replace the person's `card:` (docs/fixtures.md); the card is issued anew on its next read."""
    person(world, person_id)
    doc = next(d for pid, d in world.gateway.store.documents() if pid == person_id)
    doc = dict(doc, card=yaml.load(docstring, Loader=yaml.BaseLoader) or {})
    insurers = [{"InsurerNumber": n, "InsurerName": name} for n, name in world.gateway.store.insurers().items()]
    data = load_documents([("scenario", {"insurers": insurers, "persons": [doc]})], world.gateway.clock.today())
    world.gateway.load(data, replace=False)


@given("カードリーダーは読み取りエラーでも face ファイルを書く設定である")
def error_files_on(world: World) -> None:
    face.feature(world.gateway).update_settings({"error_files": True})


@given("猶予期間は有効期限が切れた日から数える設定である")
def grace_from_expiry_day(world: World) -> None:
    face.feature(world.gateway).update_settings({"grace_rule": "expiry_day"})


# -- when: the patient at the reader -------------------------------------------------------------


@when(parsers.parse('患者が "{person_id}" のマイナンバーカードを置き、{how}で本人確認する'))
@when(parsers.parse('患者が "{person_id}" のマイナンバーカードを置き、{how}で本人確認しようとする'))
def place_card(world: World, person_id: str, how: str) -> None:
    _place(world, person_id=person_id, **placement_options(how))


@when(parsers.parse('患者が "{person_id}" のマイナンバーカードを置き、{how}で本人確認して "{consents}" に同意する'))
def place_card_and_consent(world: World, person_id: str, how: str, consents: str) -> None:
    _place(world, person_id=person_id, consents=consents.split(","), **placement_options(how))


@when(
    parsers.parse(
        '患者が "{person_id}" のマイナンバーカードを置き、{how}で本人確認する途中、{point}の前にカードを取り去る'
    )
)
def place_and_pull(world: World, person_id: str, how: str, point: str) -> None:
    assert point in POINTS, f"unknown point {point!r}; use one of {sorted(POINTS)}"
    _place(world, person_id=person_id, remove_at=POINTS[point], **placement_options(how))


@when("患者がマイナンバーカード以外のカードを置く")
def place_generic_card(world: World) -> None:
    _place(world, person_id=None, generic_card=True)


@when(parsers.parse('"{person_id}" のカードの電子証明書が失効する'))
def revoke(world: World, person_id: str) -> None:
    feature = face.feature(world.gateway)
    feature.registry.card(person(world, person_id))
    feature.registry.revoke(person_id)


# -- then: the face file ----------------------------------------------------------------------------


def face_tree(world: World) -> Tree:
    r = result(world)
    assert r.body is not None, f"no face file was written; the reader showed {_error_words(r)}"
    return xmlcodec.parse(r.body).tree


def _error_words(r: ReaderResult) -> str:
    e = r.session.error
    return f"error {e.id} {e.message} ({r.session.error_detail})" if e else "no error"


def _levels(world: World) -> list[Tree]:
    tree = face_tree(world)
    header, body = tree.get("MessageHeader"), tree.get("MessageBody")
    levels = [n for n in (header, body) if isinstance(n, dict)]
    listing = body.get("ResultList") if isinstance(body, dict) else None
    if isinstance(listing, dict):
        node: Node = listing.get("ResultOfQualificationConfirmation")
        items = node if isinstance(node, list) else [node]
        assert len(items) == 1, f"{len(items)} ResultOfQualificationConfirmation: say which one"
        if isinstance(items[0], dict):
            levels.append(items[0])
    return levels


def face_value(world: World, element: str) -> str | None:
    """The element from MessageHeader, MessageBody or the (single) ResultOfQualificationConfirmation."""
    for level in _levels(world):
        if element in level:
            value = level[element]
            assert isinstance(value, str), f"{element} is not a simple element: {value!r}"
            return value
    return None


# -- then: what the client showed --------------------------------------------------------------------
#
# After `もし レセコンが face フォルダに届いた資格確認結果を表示する` (an order, action `face`), each
# face-file step asserts first on what the client reported it showed, then on the file the terminal
# wrote. Elements map onto the report: SegmentOfResult → segment, QualificationValidity → validity,
# ErrorCode / ErrorMessage → error_code / error_message, ProcessingResultMessage → message, elements of
# ResultOfQualificationConfirmation → the one reported result. Bookkeeping elements a screen does not
# show (ReferenceClassification, MedicalInstitutionCode, ProcessingResultCode, …) are checked on the
# file only, once the client has shown that very file (its report's result_file, when given).

REPORTED_AS = {
    "SegmentOfResult": "segment",
    "QualificationValidity": "validity",
    "ErrorCode": "error_code",
    "ErrorMessage": "error_message",
}
MESSAGES = ("ProcessingResultMessage", "ErrorMessage")


def shown(world: World) -> Report | None:
    """The client's report of the face result shown since the last placement (None: no face order)."""
    since = world.notes.get(PLACED_AT, 0)
    assert isinstance(since, int)
    faces = [o for o in world.outcomes[since:] if o.order.action == "face"]
    if not faces:
        return None
    report = faces[-1].report
    problems = report_problems(report)
    assert not problems, "\n".join(problems)
    r = result(world)
    if report.result_file and r.face_name:
        assert report.result_file == r.face_name, (
            f"the client shows {report.result_file}, not the face file of this placement {r.face_name}"
        )
    return report


def _result_level(world: World, element: str) -> bool:
    """Whether `element` belongs to ResultOfQualificationConfirmation (in this face file, or as a result field)."""
    levels = _levels(world)
    if len(levels) > 2 and element in levels[2]:
        return True
    return element in RESULT_FIELDS or element.endswith(("ConsFlg", "ConsTime", "AvailableTime"))


def _shown_result(report: Report) -> dict[str, str]:
    assert len(report.results) == 1, (
        f"the client reports {len(report.results)} results for one face file: {list(report.results)}"
    )
    return report.results[0]


def client_value(world: World, report: Report, element: str) -> tuple[bool, str | None]:
    """(whether the report carries this element at all, its value)."""
    if element in REPORTED_AS:
        got = getattr(report, REPORTED_AS[element])
        return True, got or None
    if element == "ProcessingResultMessage":
        return True, report.message or None
    if _result_level(world, element):
        return True, _shown_result(report).get(element) or None
    return False, None


def _client_says(world: World, element: str, want: str | None) -> None:
    report = shown(world)
    if report is None:
        return
    carried, got = client_value(world, report, element)
    if carried:
        assert got == want, (
            f"the client shows {element} {got!r}; the terminal's face file has {face_value(world, element)!r}"
        )


@then("face フォルダに結果ファイルが1つ書かれる")
def one_face_file(world: World) -> None:
    r = result(world)
    shown(world)  # the client showed this placement's file (when it was asked to)
    assert r.face_name is not None, f"no face file; the reader showed {_error_words(r)}"
    if world.adapter.name == "reference":  # a vendor's software may already have taken it
        assert world.notes["card.new_face_files"] == [r.face_name], world.notes["card.new_face_files"]
    assert r.face_path is not None
    assert r.face_path.parent == _face_dir(world)


@then("face フォルダに結果ファイルは書かれない")
def no_face_file(world: World) -> None:
    r = result(world)
    assert r.face_name is None, f"a face file {r.face_name} was written"
    assert world.notes["card.new_face_files"] == [], world.notes["card.new_face_files"]


@then(parsers.parse('face ファイル名は "{prefix}" と医療機関コードと20文字と処理日時からなる'))
def face_file_name(world: World, prefix: str) -> None:
    r = result(world)
    shown(world)
    assert r.face_name is not None
    now = face_value(world, "ProcessExecutionTime")
    pattern = (
        re.escape(prefix) + re.escape(r.medical_institution) + r"[0-9A-Za-z]{20}_" + re.escape(str(now)) + r"\.xml"
    )
    assert re.fullmatch(pattern, r.face_name), r.face_name


@then(parsers.parse('face ファイルの "{element}" は "{value}" である'))
def face_element_is(world: World, element: str, value: str) -> None:
    _client_says(world, element, value)
    got = face_value(world, element)
    assert got == value, f"{element}: {got!r}, expected {value!r}"


@then(parsers.parse('face ファイルに "{element}" はない'))
def face_element_absent(world: World, element: str) -> None:
    report = shown(world)
    if report is not None:
        if element in REPORTED_AS:
            got = getattr(report, REPORTED_AS[element])
            assert not got, f"the client shows {element} {got!r}, which the terminal's face file does not have"
        for item in report.results:
            assert not item.get(element), (
                f"the client shows {element} {item[element]!r}, which the terminal's face file does not have"
            )
    assert face_value(world, element) is None, f"{element} = {face_value(world, element)!r}"


@then(parsers.parse('face ファイルに "{element}" がある'))
def face_element_present(world: World, element: str) -> None:
    report = shown(world)
    if report is not None:
        carried, got = client_value(world, report, element)
        assert got is not None or not carried, f"the client does not show {element}"
    assert face_value(world, element) is not None, _levels(world)


@then(parsers.parse('face ファイルの "{element}" に "{text}" が含まれる'))
def face_element_mentions(world: World, element: str, text: str) -> None:
    report = shown(world)
    if report is not None:
        if element in MESSAGES:  # what the screen said: the message shown (error or notice)
            said = " ".join(m for m in (report.error_message, report.message) if m)
        else:
            said = client_value(world, report, element)[1] or ""
        assert text in said, f"the client shows {said!r}, which lacks {text!r} from the terminal's {element}"
    got = face_value(world, element)
    assert got is not None, f"no {element}"
    assert text in got, got


@then(parsers.parse('face ファイルの "{element}" は現在日時である'))
def face_element_is_now(world: World, element: str) -> None:
    now = format_timestamp(world.gateway.clock.now())
    _client_says(world, element, now)
    assert face_value(world, element) == now


@then(parsers.parse('face ファイルの "{element}" は "{other}" の24時間後である'))
def face_element_a_day_after(world: World, element: str, other: str) -> None:
    _client_says(world, element, face_value(world, element))
    _client_says(world, other, face_value(world, other))
    later, earlier = face_value(world, element), face_value(world, other)
    assert later is not None, f"no {element}"
    assert earlier is not None, f"no {other}"
    assert parse_timestamp(later) - parse_timestamp(earlier) == dt.timedelta(hours=24), (earlier, later)


@then(parsers.parse('face ファイルの閲覧同意フラグはすべて "{flag}" である'))
def every_consent_flag(world: World, flag: str) -> None:
    report = shown(world)
    for kind in CONSENT_KINDS:
        if report is not None:
            displayed = _shown_result(report)
            got = displayed.get(f"{kind}ConsFlg")
            assert got == flag, f"the client shows {kind}ConsFlg {got!r}; the terminal's face file has {flag!r}"
            if flag == ConsentFlag.NONE.value:
                for suffix in ("ConsTime", "AvailableTime"):
                    assert not displayed.get(f"{kind}{suffix}"), f"the client shows {kind}{suffix} with flag 0"
        assert face_value(world, f"{kind}ConsFlg") == flag, kind
        if flag == ConsentFlag.NONE.value:
            assert face_value(world, f"{kind}ConsTime") is None, kind
            assert face_value(world, f"{kind}AvailableTime") is None, kind
