"""Steps about 保険証利用登録 at the reader, its 解除, 資格確認書, and the reader's screens since 2024
(限度額 without a screen, 包括同意). The patient acts on the gateway's reader as in card_steps; the
insurer's side (a 解除 accepted) goes through the admin API; the reader's settings too."""

from __future__ import annotations

import re
from typing import Any

import orjson
from pytest_bdd import given, parsers, then, when

from mockgateway.control.admin_routes import AdminRequest
from mockgateway.domain.consent import ConsentKind
from mockgateway.harness.steps.card_steps import _place, placement_options, result
from mockgateway.harness.steps.world import World
from mockgateway.services.reader import session as face

SOURCES = {"マイナポータル": "portal", "前回受診": "previous_visit"}


def _admin(world: World, method: str, path: str, doc: dict[str, Any]) -> Any:
    handler = world.gateway.admin_routes[(method, path)]
    status, body = handler(AdminRequest(method, path, {}, orjson.dumps(doc)))
    assert status < 300, body
    return body


@given(parsers.parse('"{person_id}" の保険証利用登録の解除を保険者が "{day}" に受け付けた'))
def cancellation_accepted(world: World, person_id: str, day: str) -> None:
    _admin(world, "POST", "/admin/cards/cancel-registration",
           {"person_id": person_id, "applied_on": re.sub(r"\D", "", day)})  # fmt: skip


@given(parsers.parse('カードリーダーの設定 "{name}" は "{value}" である'))
def reader_setting(world: World, name: str, value: str) -> None:
    face.feature(world.gateway).update_settings({name: value})


@given(parsers.parse('資格確認書の被保険者証区分は "{code}" として返す設定である'))
def kakunin_code(world: World, code: str) -> None:
    world.gateway.settings.kakunin_classification = code


@when(
    parsers.parse(
        '患者が "{person_id}" のマイナンバーカードを置き、{how}で本人確認し、'
        + '保険証利用登録に同意して "{consents}" に同意する'
    )
)
def place_register_and_consent(world: World, person_id: str, how: str, consents: str) -> None:
    _place(world, person_id=person_id, register=True, consents=consents.split(","), **placement_options(how))


@when(parsers.parse('患者が "{person_id}" のマイナンバーカードを置き、{how}で本人確認し、限度額情報の提供に同意する'))
def place_with_limit_consent(world: World, person_id: str, how: str) -> None:
    _place(world, person_id=person_id, limit_consent=True, **placement_options(how))


@then("カードリーダーはこの読み取りで保険証利用登録をした")
def registered_now(world: World) -> None:
    r = result(world)
    assert r.session.registered_now, r.session.steps
    entry = world.gateway.journal.entries(transport="face")[-1]
    assert entry.extra["face"]["registered_now"] is True, entry.extra["face"]
    assert any("保険証利用登録" in step for step in entry.extra["face"]["steps"])


@then(parsers.parse('包括同意 ({source}) で同意画面を省いたのは "{kinds}" である'))
def relied_on(world: World, source: str, kinds: str) -> None:
    assert source in SOURCES, f"source: one of {sorted(SOURCES)}"
    want = {ConsentKind.parse(k).value: SOURCES[source] for k in kinds.split(",")}
    r = result(world)
    assert r.as_json()["consents_relied_on"] == want, r.as_json()["consents_relied_on"]
    entry = world.gateway.journal.entries(transport="face")[-1]
    assert entry.extra["face"]["consents_relied_on"] == want


@then("包括同意で省いた同意画面はない")
def relied_on_nothing(world: World) -> None:
    assert result(world).as_json()["consents_relied_on"] == {}


@then(parsers.parse('限度額の同意画面は "{how}" だった'))
def limit_screen_was(world: World, how: str) -> None:
    words = {"省略": "omitted", "同意": "agreed", "不同意": "declined"}
    assert how in words, f"one of {sorted(words)}"
    assert result(world).as_json()["limit_consent"] == words[how]
