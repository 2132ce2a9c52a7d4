"""The composition root: result-code overrides from YAML, build_gateway from a Config."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.app import build_gateway, load_codes
from mockgateway.config import DEFAULT_FIXTURES, Config
from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ResultCode
from mockgateway.engine import Format, Gateway
from mockgateway.services.eligibility import API_ID
from tests.conftest import GatewayFactory, eligibility_request, header_of, reply_tree

FROZEN_EPOCH = jst(2025, 6, 18, 10, 30).timestamp()


def fixed_time() -> float:
    return FROZEN_EPOCH


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codes.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def built(tmp_path: Path) -> Iterator[list[Gateway]]:
    gateways: list[Gateway] = []
    yield gateways
    for gateway in gateways:
        gateway.store.close()


def build(built: list[Gateway], config: Config) -> Gateway:
    gateway = build_gateway(config, real_time=fixed_time)
    built.append(gateway)
    return gateway


# --- load_codes ----------------------------------------------------------------------------------


def test_load_codes_none_is_the_default_table() -> None:
    assert load_codes(None).get("maintenance") == ResultCode("MGW9002", "メンテナンス中のため処理できません")


def test_load_codes_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "xml.required:\n  code: EOQS0001\n  message: '必須項目なし ({element})'\nmaintenance:\n  code: 0012\n",
    )
    codes = load_codes(path)
    assert codes.get("xml.required", element="X") == ResultCode("EOQS0001", "必須項目なし (X)")
    # leading zeros survive: codes are read as text, never as YAML numbers
    assert codes.get("maintenance") == ResultCode("0012", "メンテナンス中のため処理できません")
    assert codes.get("internal", detail="d").code == "MGW9999"  # untouched


def test_load_codes_empty_file(tmp_path: Path) -> None:
    assert load_codes(write(tmp_path, "")).get("maintenance").code == "MGW9002"


def test_load_codes_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown result-code name 'xml\.missing'"):
        load_codes(write(tmp_path, "xml.missing:\n  code: E1\n"))


def test_load_codes_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown keys \['msg'\]"):
        load_codes(write(tmp_path, "maintenance:\n  msg: x\n"))


def test_load_codes_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="a mapping of result-code names"):
        load_codes(write(tmp_path, "- maintenance\n"))
    with pytest.raises(ValueError, match="expected a mapping"):
        load_codes(write(tmp_path, "maintenance: E1\n"))


def test_overridden_codes_reach_the_response(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    codes = load_codes(write(tmp_path, "xml.required:\n  code: EOQS0001\n  message: 'ないです: {element}'\n"))
    gateway = make_gateway(codes=codes)
    response = gateway.process(API_ID, eligibility_request(birthdate=None), fmt=Format.XML, transport="test")
    header = header_of(reply_tree(response))
    assert header["ErrorCode"] == "EOQS0001"
    assert header["ErrorMessage"] == "ないです: XmlMsg/MessageBody/QualificationConfirmSearchInfo/Birthdate"


def test_with_overrides_reaches_the_response(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    gateway.codes = gateway.codes.with_overrides({"xml.malformed": {"code": "E-XML", "message": "壊れています"}})
    header = header_of(reply_tree(gateway.process(API_ID, b"<<", fmt=Format.XML, transport="test")))
    assert (header["ErrorCode"], header["ErrorMessage"]) == ("E-XML", "壊れています")


# --- Config and build_gateway --------------------------------------------------------------------


def test_config_defaults_and_paths(tmp_path: Path) -> None:
    config = Config(root=tmp_path)
    assert config.db_path == tmp_path / "mockgateway.sqlite3"
    assert config.pki_path == tmp_path / "pki"
    assert config.fixtures == [DEFAULT_FIXTURES]
    assert config.output_encoding == "Shift_JIS"
    assert config.strict_insurer_padding is True
    explicit = Config(root=tmp_path, db=tmp_path / "x.db", pki_dir=tmp_path / "keys")
    assert (explicit.db_path, explicit.pki_path) == (tmp_path / "x.db", tmp_path / "keys")
    assert DEFAULT_FIXTURES.joinpath("personas.yaml").is_file()


def test_build_gateway_with_defaults(tmp_path: Path, built: list[Gateway]) -> None:
    gateway = build(built, Config(root=tmp_path))
    assert (tmp_path / "mockgateway.sqlite3").is_file()
    assert API_ID in gateway.services
    assert gateway.store.count_people() == 27
    assert gateway.clock.today().isoformat() == "2025-06-18"
    response = gateway.process(API_ID, eligibility_request(), fmt=Format.XML, transport="test")
    header = header_of(reply_tree(response))
    assert header["SegmentOfResult"] == "1"
    assert header["CharacterCodeIdentifier"] == "1"


def test_build_gateway_applies_the_config(tmp_path: Path, built: list[Gateway]) -> None:
    codes = write(tmp_path, "xml.malformed:\n  code: E1\n")
    config = Config(
        root=tmp_path,
        output_encoding="UTF-8",
        strict_insurer_padding=False,
        codes_file=codes,
        journal_entries=5,
        journal_body_bytes=64,
    )
    gateway = build(built, config)
    assert gateway.settings.output_encoding == "UTF-8"
    assert gateway.settings.strict_insurer_padding is False
    assert gateway.codes.get("xml.malformed", detail="d").code == "E1"
    assert gateway.journal.max_entries == 5
    assert gateway.journal.max_body_bytes == 64
    response = gateway.process(API_ID, eligibility_request(), fmt=Format.XML, transport="test")
    assert header_of(reply_tree(response))["CharacterCodeIdentifier"] == "0"
    assert len(gateway.journal.entries()[0].response) == 64


def test_build_gateway_keeps_a_populated_store(tmp_path: Path, built: list[Gateway]) -> None:
    first = build(built, Config(root=tmp_path))
    first.store.replace_people({}, {})
    qualification = {"InsurerNumber": "06139992", "InsuredIdentificationNumber": "1", "QualificationDate": "20200101"}
    doc = {"id": "p", "Name": "甲", "NameKana": "ｺｳ", "Sex1": "1", "Birthdate": "19900101"}
    first.store.upsert_people({"06139992": "x"}, {"p": {**doc, "qualifications": [qualification]}})
    second = build(built, Config(root=tmp_path))
    assert second.store.count_people() == 1  # fixtures are loaded into an empty store only
    assert list(second.index.people) == ["p"]


def test_build_gateway_without_fixtures(tmp_path: Path, built: list[Gateway]) -> None:
    gateway = build(built, Config(root=tmp_path, fixtures=[]))
    assert gateway.store.count_people() == 0
    assert len(gateway.index) == 0


def test_build_gateway_restores_the_saved_clock(tmp_path: Path, built: list[Gateway]) -> None:
    first = build(built, Config(root=tmp_path))
    first.clock.set(jst(2030, 1, 2, 3, 4, 5), running=False)
    first.save_clock()
    second = build(built, Config(root=tmp_path))
    assert second.clock.now() == jst(2030, 1, 2, 3, 4, 5)
