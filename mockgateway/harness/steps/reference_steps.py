"""Steps about 照会番号 (ReferenceNumber): registration by the client, single (OQSsiimm01) or bulk
(OQSmuimm01/02, upload then poll), and registrations another 医療機関 made.

Registering is an order (`reference-number`, `reference-number-bulk`): the client sends the card's
keys (保険者番号 padded to 8) with the 照会番号 and reports the result, one object per registration
(`ProcessingResultStatus`, and with 2 `ProcessingResultCode` / `ProcessingResultMessage`). Then-steps
assert on that report, on the terminal's answer and on what the client sent. Whether the number
comes back is asserted with the result steps of each area (`結果の "ReferenceNumber" …`,
`一括照会の 1 件目の "ReferenceNumber" …`, `face ファイルの "ReferenceNumber" …`).
"""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from mockgateway.harness.orders import Card
from mockgateway.harness.outcome import Outcome
from mockgateway.harness.steps.bulk_steps import both, bulk_outcome, checked, lookup
from mockgateway.harness.steps.client_steps import card_of
from mockgateway.harness.steps.people_steps import card
from mockgateway.harness.steps.world import World
from mockgateway.services import reference_numbers
from mockgateway.wire.xmlcodec import Tree

API_ID = "OQSsiimm01"
BULK_API_ID = "OQSmuimm01"


# -- given: registrations the scenario presupposes ---------------------------------------------------


@given(parsers.parse('医療機関 "{code}" が "{person_id}" の照会番号 "{number}" を登録している'))
def reference_number_registered(world: World, code: str, person_id: str, number: str) -> None:
    """Registered on the terminal directly (another clinic's doing, not the client's under test)."""
    registry = reference_numbers.registry(world.gateway)
    assert registry is not None, "the 照会番号 feature is not installed"
    registry.register(code, card(world, person_id).key, number, world.gateway.clock.now())


# -- when: the client registers ----------------------------------------------------------------------


def _registration_card(world: World, person_id: str, number: str) -> Card:
    shown = card_of(world, person_id)
    return Card(shown.insurer_number, shown.symbol, shown.number, shown.branch, shown.birthdate, number)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証に照会番号 "{number}" を登録する'))
def register(world: World, person_id: str, number: str) -> None:
    world.act(world.order("reference-number", cards=(_registration_card(world, person_id, number),), api_id=API_ID))


@when(parsers.parse('医療機関コード "{code}" のレセコンが "{person_id}" の被保険者証に照会番号 "{number}" を登録する'))
def register_as(world: World, code: str, person_id: str, number: str) -> None:
    shown = _registration_card(world, person_id, number)
    world.act(world.order("reference-number", cards=(shown,), api_id=API_ID, medical_institution=code))


@when(parsers.parse("レセコンが次の照会番号を一括登録し、{seconds:d} 秒待って終わらなければ諦める:"))
def register_bulk(world: World, seconds: int, datatable: list[list[str]]) -> None:
    cards = tuple(_registration_card(world, row[0].strip(), row[1].strip()) for row in datatable[1:])
    world.act(world.order("reference-number-bulk", cards=cards, api_id=BULK_API_ID, timeout=float(seconds)))


# -- then ------------------------------------------------------------------------------------------------


def _single(world: World) -> tuple[Tree, Tree]:
    """(the client's reported registration result, the terminal's MessageBody) of the last single one."""
    found = next((o for o in reversed(world.outcomes) if o.order.action == "reference-number"), None)
    assert isinstance(found, Outcome), "no 照会番号 registration yet: a もし step must register one"
    report = checked(found)
    assert report.segment == "1", f"the client reports SegmentOfResult {report.segment!r} ({report.message!r})"
    body = found.tree.get("MessageBody")
    assert isinstance(body, dict), "the terminal's answer has no MessageBody"
    assert len(report.results) == 1, f"the client reports {len(report.results)} registration results, one expected"
    return dict(report.results[0]), body


@then(parsers.parse('照会番号の登録結果は "{status}" である'))
def registration_status(world: World, status: str) -> None:
    shown, held = _single(world)
    assert held.get("ProcessingResultStatus") == status, held
    got = shown.get("ProcessingResultStatus")
    assert got == status, f"the client reports ProcessingResultStatus {got!r}; the terminal returned {status!r}"


@then(parsers.parse('照会番号の登録結果は "{status}"、処理結果コードは "{code}" である'))
def registration_refused(world: World, status: str, code: str) -> None:
    registration_status(world, status)
    shown, held = _single(world)
    assert held.get("ProcessingResultCode") == code, held
    got = shown.get("ProcessingResultCode")
    assert got == code, f"the client reports ProcessingResultCode {got!r}; the terminal returned {code!r}"
    message = held.get("ProcessingResultMessage")
    assert isinstance(message, str), held
    assert shown.get("ProcessingResultMessage") == message, (
        f"the client shows {shown.get('ProcessingResultMessage')!r}, not the terminal's message {message!r}"
    )


@then(parsers.parse("照会番号の一括登録の結果は {total:d} 件で、エラー {errors:d} 件である"))
def bulk_registration_counts(world: World, total: int, errors: int) -> None:
    found = bulk_outcome(world)
    assert found.order.action == "reference-number-bulk", f"the last bulk order was {found.order.action}"
    shown, held = both(world)
    for who, units in (("the terminal", held), ("the client", shown)):
        statuses = [lookup(u, "ProcessingResultStatus") for u in units]
        assert len(units) == total, f"{who} has {len(units)} registration results, {total} expected"
        assert statuses.count("2") == errors, f"{who} has {statuses.count('2')} errors: {statuses}"
        assert statuses.count("1") == total - errors, f"{who}: {statuses}"


@then(parsers.parse('照会番号の一括登録の {k:d} 件目は処理結果コード "{code}" のエラーである'))
def bulk_registration_error(world: World, k: int, code: str) -> None:
    shown, held = both(world)
    for who, units in (("the terminal", held), ("the client", shown)):
        assert len(units) >= k, f"{who} has {len(units)} registration results"
        unit = units[k - 1]
        got = (lookup(unit, "ProcessingResultStatus"), lookup(unit, "ProcessingResultCode"))
        assert got == ("2", code), f"{who}: {k}件目 is {got}"


@then(parsers.parse('医療機関 "{code}" の "{person_id}" の照会番号は "{number}" である'))
def registered_number(world: World, code: str, person_id: str, number: str) -> None:
    """The terminal's own record (what later results will carry)."""
    got = reference_numbers.reference_number_for(world.gateway, code, card(world, person_id).key)
    assert got == number, f"the terminal holds {got!r} for {person_id} at {code}"
