"""Then-steps on what the client sent, from the gateway's request journal."""

from __future__ import annotations

from pytest_bdd import parsers, then

from mockgateway.harness.outcome import Outcome, parse_any
from mockgateway.harness.steps.world import World
from mockgateway.wire.xmlcodec import Node, Tree


@then(parsers.parse('ジャーナルの最後の記録の理由に "{text}" が含まれる'))
def journal_reason(world: World, text: str) -> None:
    entry = world.gateway.journal.entries(limit=1)[-1]
    assert entry.reason is not None
    assert text in entry.reason, entry.reason


@then(parsers.parse('ジャーナルには医療機関コード "{code}" からの要求が記録されている'))
def journal_institution(world: World, code: str) -> None:
    last = world.result()
    entry = last.entry if isinstance(last, Outcome) else world.gateway.journal.entries(limit=1)[-1]
    assert entry.medical_institution == code, (
        f"the client's request {entry.name} carried 医療機関コード {entry.medical_institution!r}, expected {code!r}"
    )
    assert entry.transport in ("folder", "http", "webapi", "inprocess"), entry.transport


@then("レセコンが送った要求は指示どおりである")
def sent_as_ordered(world: World) -> None:
    last = world.result()
    assert isinstance(last, Outcome), "this step needs an order's outcome"
    problems = last.sent_problems()
    assert not problems, "what the client sent differs from the order:\n  " + "\n  ".join(problems)


@then(parsers.parse('ジャーナルには医療機関コード "{code}" の Web API でのログインと照会が記録されている'))
def journal_webapi(world: World, code: str) -> None:
    last = world.result()
    assert isinstance(last, Outcome), "this step needs an order's outcome"
    logins = [e for e in last.entries if e.transport == "webapi" and e.api_id == "auth"]
    assert logins, f"the client did not log in to the Web API (gateway saw: {[e.name for e in last.entries]})"
    assert logins[-1].medical_institution == code, (
        f"the client logged in with 医療機関コード {logins[-1].medical_institution!r}, expected {code!r}"
    )
    search = last.entry
    assert search.transport == "webapi", f"the query came over {search.transport!r}, not the Web API"
    assert search.medical_institution == code, (
        f"the search carried 医療機関コード {search.medical_institution!r}, expected {code!r}"
    )


@then("レセコンはログインと照会を別々の接続先に送っている")
def login_and_search_on_two_hosts(world: World) -> None:
    """The login went to the login host and the search to the search host: each host answers the
    other's route with a refusal (docs/webapi.md), so two successes mean two hosts were used."""
    last = world.result()
    assert isinstance(last, Outcome), "this step needs an order's outcome"
    assert world.webapi, "the scenario serves no Web API"
    assert world.webapi_search, "the scenario serves no search host"
    assert world.webapi != world.webapi_search, "the scenario serves one host"
    webapi = [e for e in last.entries if e.transport == "webapi"]
    refused = [f"#{e.id} {e.name}: {e.reason}" for e in webapi if e.segment == "9"]
    assert not refused, f"the client sent requests to the wrong host: {refused}"
    assert [e.api_id for e in webapi][-2:] == ["auth", "OQSsiquc01"], [f"{e.api_id} {e.name}" for e in webapi]


def _answer(world: World) -> Tree:
    last = world.result()
    assert isinstance(last, Outcome), "this step needs an order's outcome"
    return parse_any(last.entry.response)


@then(parsers.parse('ゲートウェイは照会条件の "{element}" を "{value}" のまま返している'))
def echoed_as_sent(world: World, element: str, value: str) -> None:
    body = _answer(world).get("MessageBody")
    info = body.get("QualificationConfirmSearchInfo") if isinstance(body, dict) else None
    got = info.get(element) if isinstance(info, dict) else None
    assert got == value, f"QualificationConfirmSearchInfo/{element}: expected {value!r} echoed, got {got!r}"


@then(parsers.parse('ゲートウェイの結果の特定疾病療養受療証リストは "{layout}" の形で {count:d} 件である'))
def diseases_layout(world: World, layout: str, count: int) -> None:
    """nested: one SpecificDiseasesCertificateList holding SpecificDiseasesCertificateInfo elements;
    flat: the list itself repeated (XML) or a JSON array of certificate objects (docs/layouts.md)."""
    body = _answer(world).get("MessageBody")
    listing = body.get("ResultList") if isinstance(body, dict) else None
    result = listing.get("ResultOfQualificationConfirmation") if isinstance(listing, dict) else None
    result = result[0] if isinstance(result, list) else result
    assert isinstance(result, dict), "the answer has no ResultOfQualificationConfirmation"
    node = result.get("SpecificDiseasesCertificateList")
    items: list[Node] = list(node) if isinstance(node, list) else [node] if node is not None else []
    if layout == "nested":
        assert isinstance(node, dict), f"not nested: {node!r}"
        assert "SpecificDiseasesCertificateInfo" in node, f"not nested: {node!r}"
        inner = node["SpecificDiseasesCertificateInfo"]
        items = list(inner) if isinstance(inner, list) else [inner]
    else:
        assert all(isinstance(i, dict) and "SpecificDiseasesDiseaseCategory" in i for i in items), f"not flat: {node!r}"
    assert len(items) == count, f"{len(items)} certificates, expected {count}: {node!r}"
