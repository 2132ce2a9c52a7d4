"""Then-steps on what the client sent, from the gateway's request journal."""

from __future__ import annotations

from pytest_bdd import parsers, then

from mockgateway.harness.outcome import Outcome
from mockgateway.harness.steps.world import World


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
