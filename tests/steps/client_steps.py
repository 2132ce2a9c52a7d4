"""Steps where the レセコン (the client under test) acts."""

from __future__ import annotations

import datetime as dt

from pytest_bdd import given, parsers, when

from mockgateway.client.requests_xml import CardQuery, eligibility_request
from mockgateway.domain.clock import parse_date
from tests.steps.people_steps import card, person
from tests.steps.world import World


@given(parsers.parse('医療機関コード "{code}" のレセコンを使う'))
def institution(world: World, code: str) -> None:
    world.medical_institution = code


def _query(
    world: World,
    person_id: str,
    *,
    previous: bool = False,
    on: dt.date | None = None,
    birthdate: dt.date | None = None,
    branch: str | None = None,
    limit_consent: bool = False,
) -> None:
    q = card(world, person_id, previous=previous)
    query = CardQuery(
        insurer_number=q.key.insurer_number,
        symbol=q.key.symbol,
        number=q.key.number,
        branch=q.key.branch if branch is None else branch,
        birthdate=birthdate or person(world, person_id).birthdate,
        limit_consent=limit_consent,
    )
    body = eligibility_request(
        query, medical_institution=world.medical_institution, on=on or world.gateway.clock.today()
    )
    world.last = world.client.exchange("OQSsiquc01", body)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で資格確認する'))
def query_card(world: World, person_id: str) -> None:
    _query(world, person_id)


@when(parsers.parse('レセコンが "{person_id}" の以前の被保険者証で資格確認する'))
def query_previous_card(world: World, person_id: str) -> None:
    _query(world, person_id, previous=True)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で資格確認日 "{on}" として資格確認する'))
def query_card_on(world: World, person_id: str, on: str) -> None:
    _query(world, person_id, on=parse_date(on))


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で生年月日を "{birthdate}" と誤って資格確認する'))
def query_wrong_birthdate(world: World, person_id: str, birthdate: str) -> None:
    _query(world, person_id, birthdate=parse_date(birthdate))


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で枝番を省いて資格確認する'))
def query_without_branch(world: World, person_id: str) -> None:
    _query(world, person_id, branch="")


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で限度額情報の提供に同意して資格確認する'))
def query_with_limit_consent(world: World, person_id: str) -> None:
    _query(world, person_id, limit_consent=True)


@when(parsers.parse('レセコンが次の内容の "{api_id}" 要求ファイルを置く:'))
def raw_request(world: World, api_id: str, docstring: str) -> None:
    world.last = world.client.exchange(api_id, docstring.encode("utf-8"))
