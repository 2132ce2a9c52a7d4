"""Then-steps on what the client sent, from the gateway's request journal."""

from __future__ import annotations

from pytest_bdd import parsers, then

from tests.steps.world import World


@then(parsers.parse('ジャーナルの最後の記録の理由に "{text}" が含まれる'))
def journal_reason(world: World, text: str) -> None:
    entry = world.gateway.journal.entries(limit=1)[-1]
    assert entry.reason is not None
    assert text in entry.reason, entry.reason


@then(parsers.parse('ジャーナルには医療機関コード "{code}" からの要求が記録されている'))
def journal_institution(world: World, code: str) -> None:
    entry = world.gateway.journal.entries(limit=1)[-1]
    assert entry.medical_institution == code, entry.medical_institution
    assert entry.transport == "folder"
