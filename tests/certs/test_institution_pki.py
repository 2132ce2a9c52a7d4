"""mockgateway.certs.institution_pki: files, names, validity periods, revocation, reading the 医療機関コード back.

TLS behaviour with these files is in tests/test_tls_listener.py.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mockgateway.certs.institution_pki import (
    CA_COMMON_NAME,
    CLIENT_P12_PASSWORD,
    CLIENT_STATUSES,
    PKIError,
    TestPKI,
    cli_init,
    cli_issue,
    medical_institution_code,
)
from mockgateway.domain.clock import JST
from mockgateway.domain.numbers import NumberError

CODE = "1310000011"  # 東京(13) 医科(1) 00 0001, check digit 1
NOW = dt.datetime(2025, 4, 1, 9, 0, tzinfo=JST)  # a virtual-clock date, not today
NOW_UTC = NOW.astimezone(dt.UTC)


def cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


@pytest.fixture
def pki(tmp_path: Path) -> TestPKI:
    return TestPKI.init(tmp_path / "pki", now=NOW)


# -- init ---------------------------------------------------------------------------------------


def test_init_writes_stable_file_names(pki: TestPKI) -> None:
    names = sorted(p.name for p in pki.directory.iterdir())
    assert names == ["ca-key.pem", "ca.pem", "crl.pem", "server-key.pem", "server.pem"]
    assert (pki.ca_cert, pki.server_cert, pki.server_key, pki.crl) == tuple(
        pki.directory / n for n in ("ca.pem", "server.pem", "server-key.pem", "crl.pem")
    )


def test_keys_are_unencrypted_pkcs8_p256(pki: TestPKI) -> None:
    for path in (pki.server_key, pki.directory / "ca-key.pem"):
        pem = path.read_bytes()
        assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8; granian rejects SEC1
        key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.curve.name == "secp256r1"
        assert path.stat().st_mode & 0o077 == 0


def test_ca_is_named_as_a_test_ca(pki: TestPKI) -> None:
    ca = cert(pki.ca_cert)
    assert ca.subject == ca.issuer
    cn = ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == CA_COMMON_NAME
    assert "TEST" in cn
    assert "NOT FOR PRODUCTION" in cn
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    ca.verify_directly_issued_by(ca)


def test_server_certificate_names_localhost_and_loopback_addresses(pki: TestPKI) -> None:
    server = cert(pki.server_cert)
    server.verify_directly_issued_by(cert(pki.ca_cert))
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert server.not_valid_before_utc < NOW_UTC < server.not_valid_after_utc


def test_initial_crl_is_empty_and_signed_by_the_ca(pki: TestPKI) -> None:
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert len(crl) == 0
    assert crl.issuer == cert(pki.ca_cert).subject
    assert crl.is_signature_valid(cert(pki.ca_cert).public_key())  # type: ignore[arg-type]
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    assert crl.next_update_utc is not None
    assert crl.next_update_utc > NOW_UTC


def test_init_is_idempotent(pki: TestPKI) -> None:
    before = {p.name: p.read_bytes() for p in pki.directory.iterdir()}
    TestPKI.init(pki.directory)
    after = {p.name: p.read_bytes() for p in pki.directory.iterdir()}
    assert after == before


def test_init_reissues_a_missing_server_certificate_under_the_same_ca(pki: TestPKI) -> None:
    ca_before = pki.ca_cert.read_bytes()
    pki.server_cert.unlink()
    TestPKI.init(pki.directory)
    assert pki.ca_cert.read_bytes() == ca_before
    cert(pki.server_cert).verify_directly_issued_by(cert(pki.ca_cert))


def test_init_replaces_a_ca_without_its_key_and_everything_it_signed(pki: TestPKI) -> None:
    ca_before = pki.ca_cert.read_bytes()
    (pki.directory / "ca-key.pem").unlink()
    TestPKI.init(pki.directory)
    assert pki.ca_cert.read_bytes() != ca_before
    ca = cert(pki.ca_cert)
    cert(pki.server_cert).verify_directly_issued_by(ca)
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]


def test_opening_an_uninitialised_directory_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(PKIError, match=r"ca\.pem is missing: run TestPKI\.init"):
        TestPKI(tmp_path)


def test_naive_now_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TestPKI.init(tmp_path, now=dt.datetime(2025, 4, 1))


# -- client certificates ------------------------------------------------------------------------


def test_client_subject_carries_the_code_in_cn_and_serial_number(pki: TestPKI) -> None:
    issued = pki.issue_client(CODE, "valid", "テスト内科クリニック", now=NOW)
    subject = cert(issued.cert).subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == CODE
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == CODE
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "テスト内科クリニック"
    assert issued.name == "テスト内科クリニック"
    assert medical_institution_code(issued.cert) == CODE


def test_client_certificate_is_for_client_auth_and_issued_by_the_ca(pki: TestPKI) -> None:
    client = cert(pki.issue_client(CODE, now=NOW).cert)
    client.verify_directly_issued_by(cert(pki.ca_cert))
    eku = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not client.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize(
    ("status", "valid_at_now"),
    [("valid", True), ("revoked", True), ("expired", False), ("not_yet_valid", False)],
)
def test_validity_is_relative_to_now(pki: TestPKI, status: str, valid_at_now: bool) -> None:
    issued = pki.issue_client(CODE, status, now=NOW)  # type: ignore[arg-type]
    c = cert(issued.cert)
    assert (c.not_valid_before_utc, c.not_valid_after_utc) == (issued.not_before, issued.not_after)
    assert (issued.not_before <= NOW_UTC <= issued.not_after) is valid_at_now
    if status == "expired":
        assert issued.not_after < NOW_UTC
    if status == "not_yet_valid":
        assert issued.not_before > NOW_UTC


def test_files_are_named_by_code_and_status(pki: TestPKI) -> None:
    for status in CLIENT_STATUSES:
        issued = pki.issue_client(CODE, status, now=NOW)
        assert issued.cert.name == f"{CODE}-{status}.pem"
        assert issued.key.name == f"{CODE}-{status}-key.pem"
        assert issued.p12.name == f"{CODE}-{status}.p12"
        assert issued.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
        assert issued.requests_cert == (str(issued.cert), str(issued.key))


def test_p12_holds_key_certificate_and_ca(pki: TestPKI) -> None:
    issued = pki.issue_client(CODE, now=NOW)
    key, leaf, chain = pkcs12.load_key_and_certificates(issued.p12.read_bytes(), CLIENT_P12_PASSWORD)
    assert leaf is not None
    assert key is not None
    assert leaf == cert(issued.cert)
    assert chain == [cert(pki.ca_cert)]


def test_revoked_certificate_is_listed_in_a_new_crl(pki: TestPKI) -> None:
    valid = pki.issue_client(CODE, "valid", now=NOW)
    revoked = pki.issue_client(CODE, "revoked", now=NOW)
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert crl.is_signature_valid(cert(pki.ca_cert).public_key())  # type: ignore[arg-type]
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 2
    entry = crl.get_revoked_certificate_by_serial_number(revoked.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == NOW_UTC
    assert crl.get_revoked_certificate_by_serial_number(valid.serial_number) is None
    assert pki.revoked_serial_numbers() == {revoked.serial_number}


def test_revoking_keeps_earlier_entries_and_is_idempotent(pki: TestPKI) -> None:
    first = pki.issue_client(CODE, "revoked", now=NOW)
    second = pki.issue_client("1310000029", "valid", now=NOW)
    pki.revoke(second.cert, now=NOW)
    pki.revoke(second.cert, now=NOW)
    crl = x509.load_pem_x509_crl(pki.crl.read_bytes())
    assert pki.revoked_serial_numbers() == {first.serial_number, second.serial_number}
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 3


def test_revoking_a_foreign_certificate_is_refused(pki: TestPKI, tmp_path: Path) -> None:
    foreign = TestPKI.init(tmp_path / "other", now=NOW).issue_client(CODE, now=NOW)
    with pytest.raises(PKIError, match="was not issued by"):
        pki.revoke(foreign.cert)


def test_reissue_overwrites_with_a_new_key_and_serial(pki: TestPKI) -> None:
    first = pki.issue_client(CODE, now=NOW)
    first_key = first.key.read_bytes()
    second = pki.issue_client(CODE, now=NOW)
    assert second.cert == first.cert
    assert second.serial_number != first.serial_number
    assert second.key.read_bytes() != first_key


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("1310000018", "check_digit"),  # 1310000011 is right
        ("131000001", "length"),
        ("13100000１1", "length"),  # full-width digit
        ("1320000010", "score_table"),
    ],
)
def test_malformed_codes_are_refused(pki: TestPKI, code: str, rule: str) -> None:
    with pytest.raises(NumberError) as raised:
        pki.issue_client(code)
    assert raised.value.rule == rule
    assert not list(pki.directory.glob(f"{code}-*"))


def test_check_code_false_issues_a_malformed_code_for_negative_tests(pki: TestPKI) -> None:
    issued = pki.issue_client("1310000018", check_code=False, now=NOW)
    assert medical_institution_code(issued.cert) == "1310000018"


def test_unknown_status_is_refused(pki: TestPKI) -> None:
    with pytest.raises(ValueError, match="status: expected one of valid, expired, revoked, not_yet_valid"):
        pki.issue_client(CODE, "suspended")  # type: ignore[arg-type]


def test_check_digit_example_from_the_rule() -> None:
    from mockgateway.domain.numbers import check_digit

    assert check_digit("341071236") == 2
    assert check_digit("131000001") == 1


# -- reading the code back ------------------------------------------------------------------------


def test_code_reads_back_from_pem_der_path_and_parsed(pki: TestPKI) -> None:
    issued = pki.issue_client(CODE, now=NOW)
    parsed = cert(issued.cert)
    der = parsed.public_bytes(serialization.Encoding.DER)
    for source in (issued.cert, issued.cert.read_bytes(), der, parsed):
        assert medical_institution_code(source) == CODE


def _self_signed(*attributes: x509.NameAttribute[str]) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(list(attributes))
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_code_from_cn_alone_or_serial_number_alone() -> None:
    only_cn = _self_signed(x509.NameAttribute(NameOID.COMMON_NAME, CODE))
    only_serial = _self_signed(x509.NameAttribute(NameOID.SERIAL_NUMBER, CODE))
    assert medical_institution_code(only_cn) == CODE
    assert medical_institution_code(only_serial) == CODE


def test_code_disagreement_or_absence_is_an_error() -> None:
    both = _self_signed(
        x509.NameAttribute(NameOID.COMMON_NAME, CODE),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "1310000029"),
    )
    with pytest.raises(PKIError, match="serialNumber '1310000029' and CN '1310000011' differ"):
        medical_institution_code(both)
    with pytest.raises(PKIError, match="neither serialNumber nor CN"):
        medical_institution_code(_self_signed(x509.NameAttribute(NameOID.ORGANIZATION_NAME, "x")))


# -- CLI helpers --------------------------------------------------------------------------------


def test_cli_init_and_issue_summaries(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    summary = cli_init(d)
    assert str(d / "ca.pem") in summary
    assert "localhost, 127.0.0.1, ::1" in summary
    assert "0 revoked" in summary
    out = cli_issue(d, CODE, "revoked")
    assert f"医療機関コード {CODE}" in out
    assert str(d / f"{CODE}-revoked.pem") in out
    assert str(d / f"{CODE}-revoked-key.pem") in out
    assert "a running gateway applies it" in out
    assert "1 revoked" in cli_init(d)
