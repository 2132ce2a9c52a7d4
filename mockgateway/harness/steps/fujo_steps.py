"""Steps about 医療扶助 (docs/fujo.md): the 医療券 in a result, the 医療扶助の一括照会 (OQSmutic).

A 医療扶助 recipient's 公費負担者番号 and 受給者番号 are on their 医療券 where a card has 保険者番号 and
番号: `レセコンが "fujo-ichiro" の被保険者証で資格確認する` sends them in InsurerNumber and
InsuredIdentificationNumber (the spelling [Y2]'s labels show; docs/fujo.md). The result steps of
result_steps apply; these add the 医療券 (PublicExpenseResultList/MedicalTicketInfo), asserted on the
terminal's result and on what the client reports it showed (a group is reported as JSON text).
"""

from __future__ import annotations

import json

from pytest_bdd import parsers, then, when

from mockgateway.domain.model import TICKET_ELEMENTS
from mockgateway.harness.steps.result_steps import only_reported, only_result, reported
from mockgateway.harness.steps.world import World
from mockgateway.wire.xmlcodec import Tree


def _ticket(world: World) -> Tree:
    listing = only_result(world).get("PublicExpenseResultList")
    assert isinstance(listing, dict), f"the result has no PublicExpenseResultList: {sorted(only_result(world))}"
    ticket = listing.get("MedicalTicketInfo")
    assert isinstance(ticket, dict), f"one MedicalTicketInfo expected: {ticket!r}"
    return ticket


def _reported_ticket(world: World) -> dict[str, str] | None:
    report = reported(world)
    if report is None:
        return None
    shown = only_reported(report)
    raw = shown.get("PublicExpenseResultList")
    assert raw, f"the client did not report PublicExpenseResultList (医療券); it reported {sorted(shown)}"
    doc = json.loads(raw) if raw.startswith("{") else {}
    ticket = doc.get("MedicalTicketInfo") if isinstance(doc, dict) else None
    assert isinstance(ticket, dict), f"the client's 医療券 is not one MedicalTicketInfo: {raw!r}"
    return {str(k): str(v) for k, v in ticket.items()}


@then("結果の医療券には MedicalTicketInfo の全項目がある")
def ticket_has_every_element(world: World) -> None:
    ticket = _ticket(world)
    assert list(ticket) == list(TICKET_ELEMENTS), f"the terminal's MedicalTicketInfo: {list(ticket)}"
    shown = _reported_ticket(world)
    if shown is not None:
        missing = [name for name in TICKET_ELEMENTS if name not in shown]
        assert not missing, f"the client does not show {missing} of the 医療券"


@then(parsers.parse('結果の医療券の "{element}" は "{value}" である'))
def ticket_element_is(world: World, element: str, value: str) -> None:
    got = _ticket(world).get(element)
    assert got == value, f"the terminal's MedicalTicketInfo/{element} is {got!r}"
    shown = _reported_ticket(world)
    if shown is not None:
        assert shown.get(element) == value, f"the client shows {element} {shown.get(element)!r}; the terminal {value!r}"


@when(
    parsers.parse('レセコンが診療年月 "{month}" の医療扶助の一括照会を送り、{seconds:d} 秒待って終わらなければ諦める')
)
def mutic(world: World, month: str, seconds: int) -> None:
    world.act(world.order("fujo-bulk", api_id="OQSmutic01", treatment_month=month, timeout=float(seconds)))


@when(parsers.parse("レセコンが診療年月を指定せずに医療扶助の一括照会を送る"))
def mutic_without_month(world: World) -> None:
    world.act(world.order("fujo-bulk", api_id="OQSmutic01", treatment_month=None, timeout=10.0))
