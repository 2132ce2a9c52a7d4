"""The fixture `card:` key (spec) and the card registry: issue on first use, identify by certificate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from mockgateway.card.authority import CardAuthority
from mockgateway.card.model import GenericCard, MyNumberCard
from mockgateway.card.profile import PinId
from mockgateway.card.registry import CardRegistry, NoCardError
from mockgateway.card.spec import CardSpec, CardSpecError, parse_card_spec
from mockgateway.engine import Gateway
from mockgateway.fixtures import FixtureError, load_documents
from mockgateway.services.reader import session as face
from tests.card.face_gateway import face_gateway

D = dt.date


# --- the spec ---------------------------------------------------------------------------------------


def test_defaults() -> None:
    assert parse_card_spec({}) == CardSpec()
    assert parse_card_spec(None) == CardSpec()
    spec = CardSpec()
    assert spec.registered
    assert not spec.revoked
    assert spec.pin == "1234"
    assert spec.pin_tries == 3
    assert spec.is_mynumber


def test_strings_and_booleans_both_read() -> None:
    # YAML fixtures (BaseLoader) give strings; the population generator writes real booleans
    from_yaml = parse_card_spec({"registered": "false", "revoked": "true", "cert_expires": "20290101"})
    from_json = parse_card_spec({"registered": False, "revoked": True, "cert_expires": "20290101"})
    assert from_yaml == from_json
    assert from_yaml.cert_expires == D(2029, 1, 1)


def test_every_key() -> None:
    spec = parse_card_spec(
        {
            "registered": "yes",
            "cert_issued": "20240401",
            "cert_expires": "20290401",
            "revoked": "no",
            "pin": "2580",
            "pin_tries": "1",
            "sign_password": "PASS1234",
            "kenhojo_pin": "1111",
            "security_code": "4321",
            "face_auth_card": "true",
            "profile": "mynumber-blocked-6984",
            "comment": "メモ",
        }
    )
    assert spec == CardSpec(True, D(2029, 4, 1), D(2024, 4, 1), False, "2580", 1, "PASS1234", "1111", "4321", True,
                            "mynumber-blocked-6984")  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "field", "words"),
    [
        ({"pin": "12345"}, "pin", "4 digits"),
        ({"pin_tries": "4"}, "pin_tries", "0〜3"),
        ({"pin_tries": "x"}, "pin_tries", "0〜3"),
        ({"registered": "maybe"}, "registered", "true か false"),
        ({"profile": "visa"}, "profile", "mynumber"),
        ({"cert_expires": "2029-01-01"}, "cert_expires", "YYYYMMDD"),
        ({"cert_issued": "20250101", "cert_expires": "20240101"}, "cert_expires", "発行日"),
        ({"sign_password": "abc"}, "sign_password", "6-16"),
        ({"security_code": "12"}, "security_code", "4桁"),
        ({"pinn": "1234"}, "pinn", "未知の項目"),
        ({"pin": ["1", "2"]}, "pin", "文字列"),
    ],
)
def test_refusals_name_the_key(doc: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(CardSpecError, match=words) as info:
        parse_card_spec(doc)
    assert info.value.field == field


def test_issue_date_not_before_birth() -> None:
    with pytest.raises(CardSpecError, match="生年月日"):
        parse_card_spec({"cert_issued": "19790101"}, birthdate=D(1980, 4, 1))


def _person_doc(**card: object) -> dict[str, object]:
    return {
        "insurers": [{"InsurerNumber": "01139997", "InsurerName": "協会"}],
        "persons": [
            {
                "id": "p1",
                "Name": "試験　一",
                "NameKana": "シケン　ハジメ",
                "Sex1": "1",
                "Birthdate": "19800401",
                "qualifications": [
                    {"InsurerNumber": "01139997", "InsuredIdentificationNumber": "1", "QualificationDate": "20200101"}
                ],
                "card": card,
            }
        ],
    }


def test_fixture_loader_validates_the_card_key() -> None:
    with pytest.raises(FixtureError, match=r"person p1: card/pin_tries: 残り回数は 0〜3") as info:
        load_documents([("people.yaml", _person_doc(pin_tries="7"))], D(2026, 11, 23))
    assert info.value.field == "card/pin_tries"


def test_fixture_card_relative_dates_are_resolved_at_load() -> None:
    data = load_documents([("people.yaml", _person_doc(cert_expires="today+1m"))], D(2026, 11, 23))
    assert data.documents["p1"]["card"] == {"cert_expires": "20261223"}
    assert data.persons["p1"].extensions["card"] == {"cert_expires": "today+1m"}


# --- the registry -------------------------------------------------------------------------------------


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = face_gateway(tmp_path / "oqs")
    yield gw
    gw.store.close()


def registry(gateway: Gateway) -> CardRegistry:
    return face.feature(gateway).registry


def test_a_card_is_issued_on_first_use_and_kept(gateway: Gateway) -> None:
    reg = registry(gateway)
    person = gateway.index.people["hoken-taro"]
    assert reg.issued("hoken-taro") is None
    card = reg.card(person)
    assert reg.card(person) is card
    assert reg.issued("hoken-taro") is card
    assert [c.person_id for c in reg.all_issued()] == ["hoken-taro"]
    assert isinstance(card.model(), MyNumberCard)
    assert card.pin_tries == 3
    assert card.state.auth_pin == "1234"
    assert card.state.name == "保険　太郎"
    assert card.state.sex == "1"


def test_the_certificate_carries_no_personal_data(gateway: Gateway) -> None:
    card = registry(gateway).card(gateway.index.people["hoken-taro"])
    cert = x509.load_der_x509_certificate(card.certificate_der)
    text = cert.subject.rfc4514_string()
    assert card.state.individual_number not in text
    assert "保険" not in text
    assert card.state.individual_number.encode() not in card.certificate_der


def test_holder_found_by_the_certificate_never_by_the_number(gateway: Gateway) -> None:
    reg = registry(gateway)
    card = reg.card(gateway.index.people["hoken-taro"])
    assert reg.by_certificate(card.certificate_der) is card
    other = reg.card(gateway.index.people["hoken-hanako"])
    assert reg.by_certificate(other.certificate_der) is other
    assert reg.by_certificate(b"not a certificate") is None
    # the same CA and serial (same seed), other validity: not the card's certificate
    foreign = CardAuthority.create(seed=reg.seed, key_cache=reg.key_cache).issue_for(
        "hoken-taro", "x", D(1980, 4, 1), D(2024, 4, 1)
    )
    assert foreign.auth_serial == card.serial
    assert reg.by_certificate(foreign.auth_cert_der) is None


def test_certificate_validity_follows_the_fixture(gateway: Gateway) -> None:
    reg = registry(gateway)
    soon = reg.card(gateway.index.people["myna-kigen-chikai"])
    assert soon.expires == D(2026, 12, 23)
    assert soon.valid_from <= D(2026, 11, 23)
    default = reg.card(gateway.index.people["hoken-taro"])  # the 5th birthday after a year ago
    assert default.valid_from == D(2025, 11, 23)
    assert default.expires == D(2030, 4, 1)


def test_revoked_cards_are_on_the_crl(gateway: Gateway) -> None:
    reg = registry(gateway)
    revoked = reg.card(gateway.index.people["myna-shikkou"])
    fine = reg.card(gateway.index.people["hoken-taro"])
    assert reg.is_revoked(revoked.serial)
    assert not reg.is_revoked(fine.serial)
    reg.revoke("hoken-taro")
    assert reg.is_revoked(fine.serial)
    with pytest.raises(NoCardError):
        reg.revoke("kouki-ume")  # not issued yet


def test_tries_and_profile_from_the_fixture(gateway: Gateway) -> None:
    locked = registry(gateway).card(gateway.index.people["myna-lock"])
    assert locked.state.tries[PinId.AUTH] == 0
    assert locked.surface.face_auth_card is False
    kao = registry(gateway).card(gateway.index.people["myna-kao"])
    assert kao.surface.face_auth_card is True
    assert kao.surface.verification_number_b == kao.state.verification_number_b


def test_no_card_without_the_key(gateway: Gateway) -> None:
    gateway.load(load_documents([("x", _person_doc())], gateway.clock.today()), replace=False)
    doc = _person_doc()
    del doc["persons"][0]["card"]  # type: ignore[index]
    doc["persons"][0]["id"] = "p2"  # type: ignore[index]
    gateway.load(load_documents([("x", doc)], gateway.clock.today()), replace=False)
    with pytest.raises(NoCardError, match="p2"):
        registry(gateway).card(gateway.index.people["p2"])
    assert registry(gateway).card(gateway.index.people["p1"]).spec == CardSpec()


def test_a_changed_document_means_a_new_card(gateway: Gateway) -> None:
    reg = registry(gateway)
    gateway.load(load_documents([("x", _person_doc())], gateway.clock.today()), replace=False)
    first = reg.card(gateway.index.people["p1"])
    first.state.tries[PinId.AUTH] = 1
    assert reg.card(gateway.index.people["p1"]) is first  # the same card while nothing is loaded: tries kept
    assert reg.card(gateway.index.people["p1"]).pin_tries == 1
    gateway.load(load_documents([("x", _person_doc(pin="9876"))], gateway.clock.today()), replace=False)
    assert reg.issued("p1") is None  # forgotten when fixtures are loaded
    second = reg.card(gateway.index.people["p1"])
    assert second.serial != first.serial
    assert second.pin_tries == 3
    assert second.state.auth_pin == "9876"
    assert reg.by_certificate(first.certificate_der) is None


def test_loading_fixtures_restores_every_card(gateway: Gateway) -> None:
    reg = registry(gateway)
    card = reg.card(gateway.index.people["hoken-taro"])
    card.state.tries[PinId.AUTH] = 0
    reg.revoke("hoken-taro")
    gateway.load(load_documents([("x", _person_doc())], gateway.clock.today()), replace=False)  # someone else
    fresh = reg.card(gateway.index.people["hoken-taro"])
    assert fresh is not card
    assert fresh.pin_tries == 3
    assert not reg.is_revoked(fresh.serial)


def test_a_person_whose_document_changes_between_reads_gets_a_new_card(gateway: Gateway) -> None:
    import dataclasses

    reg = registry(gateway)
    person = gateway.index.people["hoken-taro"]
    first = reg.card(person)
    moved = dataclasses.replace(person, address="東京都港区")
    assert reg.card(moved) is not first


def test_generic_profile_gives_a_card_that_is_not_a_my_number_card(gateway: Gateway) -> None:
    gateway.load(load_documents([("x", _person_doc(profile="generic"))], gateway.clock.today()), replace=False)
    card = registry(gateway).card(gateway.index.people["p1"])
    assert not card.is_mynumber
    assert isinstance(card.model(), GenericCard)


def test_issue_all(gateway: Gateway) -> None:
    people = [gateway.index.people[p] for p in ("hoken-taro", "kouki-ume")]
    assert registry(gateway).issue_all(people) == 2
    assert registry(gateway).ca_pem().startswith(b"-----BEGIN CERTIFICATE-----")
