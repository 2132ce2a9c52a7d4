"""Steps about 居宅同意取得型 (docs/home-visit.md) and 資格確認限定型 (docs/limited.md).

The レセコン acts through orders: `home-visit-requery` (再照会), `consent-withdrawal` (閲覧同意取り消し)
and `consented-bulk` (同意済資格情報一括取得, upload then poll). The 一括取得's counts and units are
asserted with the 一括照会 steps (bulk_steps), which read this order too. Then-steps here assert on
what the client reports and on what the terminal answered, after checking what the client sent.
"""

from __future__ import annotations

import dataclasses
import json

from pytest_bdd import given, parsers, then, when

from mockgateway.control.admin_routes import AdminRequest
from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.continuing_consent import Channel
from mockgateway.harness import home_visit as orders
from mockgateway.harness.orders import Action, Card
from mockgateway.harness.steps.bulk_steps import both, lookup
from mockgateway.harness.steps.card_steps import _place, placement_options, result
from mockgateway.harness.steps.client_steps import card_of
from mockgateway.harness.steps.result_steps import body, reported
from mockgateway.harness.steps.world import World
from mockgateway.services import home_visit, limited
from mockgateway.services.medical.disaster import API_ID as DISASTER_API
from mockgateway.services.medical.service import CHECKUP_API, DRUG_API

FAMILY = r"(?P<family>訪問診療等|オンライン診療等)"
TREATMENT = {"訪問診療等": "2", "オンライン診療等": "3"}
ELEMENT = {"同意日": "ConsentDate", "受診日": "ExaminationDate"}


def _order(
    world: World,
    action: Action,
    family: str,
    *,
    cards: tuple[Card, ...] = (),
    date_range: tuple[str, str, str] | None = None,
    timeout: float | None = None,
) -> None:
    order = world.order(action, cards=cards, timeout=timeout)
    order = dataclasses.replace(order, treatment=TREATMENT[family], date_range=date_range)
    world.act(dataclasses.replace(order, api_id=orders.api_id(order)))


# -- given ----------------------------------------------------------------------------------------------


@given(parsers.parse("居宅同意取得型の継続同意の有効期間は {days:d} 日である"))
def consent_days(world: World, days: int) -> None:
    home_visit.feature(world.gateway).update_settings({"consent_days": days})


@given(
    parsers.re(
        r'"(?P<person_id>[^"]+)" は医療機関 "(?P<code>\d+)" で (?P<channel>[a-z-]+) の初回の資格確認を受け、'
        r"(?P<kinds>.+)の閲覧に同意した"
    )
)
def first_visit_registered(world: World, person_id: str, code: str, channel: str, kinds: str) -> None:
    """What a first visit leaves behind, without the reader (the reader steps do the whole visit)."""
    words = {"薬剤情報": "drug", "特定健診情報": "checkup", "診療情報": "diagnosis", "手術情報": "operation"}
    given = frozenset(ConsentKind.parse(words[w]) for w in kinds.split("と"))
    made = home_visit.feature(world.gateway).register(person_id, code, Channel.parse(channel), given,
                                                      world.gateway.clock.now())  # fmt: skip
    assert made is not None, f"channel {channel} leaves no continuing consent"


@given(parsers.parse('医療機関 "{code}" は "{kind}" として登録されている'))
def institution_kind(world: World, code: str, kind: str) -> None:
    limited.feature(world.gateway).register({code: kind})


# -- when (orders) -----------------------------------------------------------------------------------------


@when(parsers.re(r'レセコンが "(?P<person_id>[^"]+)" を' + FAMILY + "として再照会する"))
def requery(world: World, person_id: str, family: str) -> None:
    _order(world, "home-visit-requery", family, cards=(card_of(world, person_id),))


@when(parsers.re(r'レセコンが "(?P<person_id>[^"]+)" の' + FAMILY + "の閲覧同意を取り消す"))
def withdraw(world: World, person_id: str, family: str) -> None:
    _order(world, "consent-withdrawal", family, cards=(card_of(world, person_id),))


@when(
    parsers.re(
        r"レセコンが"
        + FAMILY
        + r'の同意済資格情報を(?P<element>同意日|受診日) "(?P<start>\d{8})" から "(?P<end>\d{8})" で'
        r"一括取得し、(?P<seconds>\d+) 秒待って終わらなければ諦める"
    )
)
def consented_bulk(world: World, family: str, element: str, start: str, end: str, seconds: str) -> None:
    _order(world, "consented-bulk", family, date_range=(ELEMENT[element], start, end), timeout=float(seconds))


@when(parsers.re(r"レセコンが期間を指定せずに" + FAMILY + "の同意済資格情報を一括取得する"))
def consented_bulk_without_range(world: World, family: str) -> None:
    _order(world, "consented-bulk", family)


# -- then ---------------------------------------------------------------------------------------------------


@then(parsers.parse('患者ごとの処理結果は "{code}" のエラーで、資格情報は返らない'))
def person_error(world: World, code: str) -> None:
    report = reported(world)
    held = body(world)
    assert held.get("ProcessingResultStatus") == "2", f"the terminal answered {held}"
    assert held.get("ProcessingResultCode") == code, f"the terminal answered {held.get('ProcessingResultCode')!r}"
    assert "ResultList" not in held, "the terminal returned qualification data"
    assert report is not None
    shown = [r for r in report.results if "Name" in r or "ResultList" in r]  # a withdrawal shows its body
    assert not shown, f"the client shows qualification data it cannot have received: {shown}"
    message = str(held.get("ProcessingResultMessage"))
    assert report.message == message, f"the client shows {report.message!r}; the terminal said {message!r}"


@then(parsers.parse('患者ごとの処理結果コードは "{code}" である'))
def person_notice(world: World, code: str) -> None:
    reported(world)
    assert body(world).get("ProcessingResultCode") == code, body(world)


@then("閲覧同意の取り消しが受け付けられた")
def withdrawal_accepted(world: World) -> None:
    report = reported(world)
    held = body(world)
    assert held.get("ProcessingResultStatus") == "1", held
    assert held.get("ConsentWithdrawalDateTime"), held
    assert report is not None
    assert report.results, "the client shows nothing"
    assert report.results[0].get("ConsentWithdrawalDateTime") == held["ConsentWithdrawalDateTime"]


@then(parsers.parse('同意済資格情報の氏名は "{names}" である'))
def consented_names(world: World, names: str) -> None:
    shown, held = both(world)
    want = [n for n in names.split("、") if n] if names else []
    for who, units in (("the terminal", held), ("the client", shown)):
        got = [lookup(u, "Name") for u in units]
        assert got == want, f"{who} lists {got}; expected {want}"


@then(parsers.parse('同意済資格情報の "{name}" の "{element}" は "{value}" である'))
def consented_element(world: World, name: str, element: str, value: str) -> None:
    shown, held = both(world)
    for who, units in (("the terminal", held), ("the client", shown)):
        unit = next((u for u in units if lookup(u, "Name") == name), None)
        assert unit is not None, f"{who} has no unit for {name}"
        assert lookup(unit, element) == value, f"{who}: {element} = {lookup(unit, element)!r}, expected {value!r}"


# -- the first visit on the reader's channel (居宅同意取得型) and 資格確認限定型 readings -------------------

CHANNELS = {"訪問診療": "home-visit", "オンライン診療": "online", "入院": "bedside", "発熱外来": "fever",
            "資格確認限定型のアプリ": "limited"}  # fmt: skip
PASSCODE = "home_visit.passcode"
CHANNEL = r"(?P<channel>訪問診療|オンライン診療|入院|発熱外来|資格確認限定型のアプリ)"


def _visit(world: World, person_id: str, channel: str, how: str, consents: str = "") -> None:
    options = placement_options(how)
    if options.get("mode") == "visual" and PASSCODE in world.notes:
        options["passcode"] = world.notes[PASSCODE]
    kinds = [c for c in consents.split(",") if c]
    _place(world, person_id=person_id, channel=CHANNELS[channel], consents=kinds, **options)


@given(parsers.parse('医療機関 "{code}" に目視確認用パスコードが発行されている'))
def passcode_issued(world: World, code: str) -> None:
    world.notes[PASSCODE] = home_visit.feature(world.gateway).issue_passcode(code, world.gateway.clock.now()).code


@given(parsers.parse('目視確認用パスコードを "{typed}" と打ち間違える'))
def passcode_mistyped(world: World, typed: str) -> None:
    world.notes[PASSCODE] = typed


@given(parsers.parse('医療機関 "{code}" の顔認証付きカードリーダーが故障している'))
def reader_faulted(world: World, code: str) -> None:
    status, _ = world.gateway.admin_routes[("POST", "/admin/home-visit/reader-fault")](
        AdminRequest("POST", "/admin/home-visit/reader-fault", {}, json.dumps({"medical_institution": code}).encode())
    )
    assert status == 200


@when(
    parsers.re(
        r'患者が "(?P<person_id>[^"]+)" のマイナンバーカードを' + CHANNEL + r"で読み取り、(?P<how>.+?)で本人確認して "
        r'"(?P<consents>[a-z,]+)" に同意する'
    )
)
def first_visit_with_consent(world: World, person_id: str, channel: str, how: str, consents: str) -> None:
    _visit(world, person_id, channel, how, consents)


@when(
    parsers.re(
        r'患者が "(?P<person_id>[^"]+)" のマイナンバーカードを'
        + CHANNEL
        + r"で読み取り、(?P<how>[^、]+?)で本人確認する"
    )
)
def first_visit(world: World, person_id: str, channel: str, how: str) -> None:
    _visit(world, person_id, channel, how)


MEDICAL_APIS = (DRUG_API, CHECKUP_API, DISASTER_API)


@then("レセコンは医療情報を求めなかった")
def no_medical_request(world: World) -> None:
    """A 資格確認限定型 client confirms eligibility only: after the reading it asks for no 医療情報 at all
    (the gateway would refuse it with MGW2801 — the client must not rely on that)."""
    since = result(world).journal_id
    asked = [
        e
        for e in world.gateway.journal.entries(since=since, medical_institution=world.medical_institution)
        if e.api_id in MEDICAL_APIS
    ]
    kind = limited.kind_of(world.gateway, world.medical_institution).value
    assert not asked, f"the client asked for 医療情報 as a {kind} (資格確認限定型): " + "; ".join(
        f"{e.api_id} {e.name or ''} → {e.reason or e.segment}" for e in asked
    )
