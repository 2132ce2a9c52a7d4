"""Steps where the レセコン (the client under test) acts: each becomes an order for the adapter."""

from __future__ import annotations

import dataclasses
import re

from pytest_bdd import given, parsers, when

from mockgateway.harness.orders import Action, Card, yyyymmdd
from mockgateway.harness.steps.people_steps import card, person
from mockgateway.harness.steps.world import World
from mockgateway.pytest_plugin import omit


@given(parsers.parse('医療機関コード "{code}" のレセコンを使う'))
def institution(world: World, code: str) -> None:
    world.medical_institution = code


def card_of(
    world: World,
    person_id: str,
    *,
    previous: bool = False,
    birthdate: str | None = None,
    branch: str | None = None,
) -> Card:
    """The card as printed (bare 6 or 8 digit 保険者番号); the client must pad it itself."""
    q = card(world, person_id, previous=previous)
    return Card(
        insurer_number=q.key.insurer_number,
        symbol=q.key.symbol,
        number=q.key.number,
        branch=q.key.branch if branch is None else branch,
        birthdate=birthdate or yyyymmdd(person(world, person_id).birthdate),
    )


def _query(
    world: World,
    person_id: str,
    *,
    previous: bool = False,
    on: str | None = None,
    birthdate: str | None = None,
    branch: str | None = None,
    limit_consent: bool = False,
    timeout: float | None = None,
    action: Action = "eligibility",
) -> None:
    shown = card_of(world, person_id, previous=previous, birthdate=birthdate, branch=branch)
    world.act(world.order(action, cards=(shown,), on=on, limit_consent=limit_consent, timeout=timeout))


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で資格確認する'))
def query_card(world: World, person_id: str) -> None:
    _query(world, person_id)


@when(parsers.parse('レセコンが "{person_id}" の以前の被保険者証で資格確認する'))
def query_previous_card(world: World, person_id: str) -> None:
    _query(world, person_id, previous=True)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で資格確認日 "{on}" として資格確認する'))
def query_card_on(world: World, person_id: str, on: str) -> None:
    _query(world, person_id, on=on)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で生年月日を "{birthdate}" と誤って資格確認する'))
def query_wrong_birthdate(world: World, person_id: str, birthdate: str) -> None:
    _query(world, person_id, birthdate=birthdate)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で枝番を省いて資格確認する'))
def query_without_branch(world: World, person_id: str) -> None:
    _query(world, person_id, branch="")


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で限度額情報の提供に同意して資格確認する'))
def query_with_limit_consent(world: World, person_id: str) -> None:
    _query(world, person_id, limit_consent=True)


@when(parsers.parse('レセコンが "{person_id}" の被保険者証で資格確認し、{seconds:d} 秒待って結果がなければ諦める'))
def query_with_patience(world: World, person_id: str, seconds: int) -> None:
    _query(world, person_id, timeout=float(seconds))


@given("レセコンのクライアント証明書は有効期限が切れている")
def expired_client_certificate(world: World) -> None:
    """The Web API orders from now on hand over an expired 医療機関 client certificate."""
    world.certificate_status = "expired"


@when(parsers.parse('レセコンが Web API で "{person_id}" の被保険者証を資格確認する'))
def webapi_query_card(world: World, person_id: str) -> None:
    _query(world, person_id, action="webapi-eligibility")


@when(parsers.parse('レセコンが Web API で "{person_id}" の被保険者証で限度額情報の提供に同意して資格確認する'))
def webapi_query_with_limit_consent(world: World, person_id: str) -> None:
    _query(world, person_id, limit_consent=True, action="webapi-eligibility")


@when(parsers.parse('レセコンが Web API で "{person_id}" の被保険者証を医療機関コードを付けずに資格確認する'))
def webapi_query_without_institution(world: World, person_id: str) -> None:
    """The idToken names the 医療機関: the search's MessageHeader leaves MedicalInstitutionCode out."""
    order = world.order("webapi-eligibility", cards=(card_of(world, person_id),))
    world.act(dataclasses.replace(order, send_medical_institution_code=False))


@when(parsers.parse('レセコンが Web API で "{person_id}" の被保険者証を保険者番号を0で埋めて資格確認する'))
def webapi_query_zero_padded(world: World, person_id: str) -> None:
    """A 6-digit 国保 保険者番号 sent as "00" + 6 digits, as public Web API clients do."""
    order = world.order("webapi-eligibility", cards=(card_of(world, person_id),))
    world.act(dataclasses.replace(order, insurer_padding="zero"))


@when("レセコンのクライアント証明書が稼働中に失効する")
def revoke_client_certificate(world: World) -> None:
    """The 医療機関's certificate is listed in the CRL while the Web API runs; the login listener
    restarts in place (as `POST /admin/pki/revoke` does on the gateway), and the orders from now on
    hand over that same certificate."""
    if world.webapi_listener is None or world.pki is None:
        omit("no TLS Web API in this scenario")
    assert world.pki is not None
    cert = world.pki.client_paths(world.medical_institution, world.certificate_status)[0]
    world.webapi_listener.revoke(cert)
    world.reuse_certificate = True


@when(parsers.parse('レセコンが Web API で "{person_id}" の被保険者証を生年月日 "{birthdate}" と誤って資格確認する'))
def webapi_query_wrong_birthdate(world: World, person_id: str, birthdate: str) -> None:
    _query(world, person_id, birthdate=birthdate, action="webapi-eligibility")


@when(parsers.parse('レセコンが次の内容の "{api_id}" 要求ファイルを置く:'))
def raw_request(world: World, api_id: str, docstring: str) -> None:
    if "raw-request" not in world.adapter.capabilities:
        omit("the scenario hands the client exact request bytes; only the reference client can send them")
    world.act(world.order("raw", api_id=api_id, raw=docstring.encode("utf-8")))


@when(parsers.parse("レセコンが {people} を一括照会し、{seconds:d} 秒待って終わらなければ諦める"))
def bulk_query(world: World, people: str, seconds: int) -> None:
    ids = re.findall(r'"([^"]+)"', people)
    assert ids, f"no quoted persona ids in {people!r}"
    cards = tuple(card_of(world, person_id) for person_id in ids)
    world.act(world.order("bulk", cards=cards, api_id="OQSmuquc01", timeout=float(seconds)))


@when("レセコンが face フォルダに届いた資格確認結果を表示する")
def show_face_result(world: World) -> None:
    """After a patient confirmed at the card reader: the client shows what arrived in `face`."""
    world.act(world.order("face"))
