import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mockgateway.card.authority import (
    JST,
    OID_JLIS_NAME,
    CardAuthority,
    CardCredentials,
    CertKind,
)
from mockgateway.card.keys import KeyCache

BIRTH = dt.date(1980, 6, 15)
ISSUED = dt.date(2024, 4, 1)
NUMBER = "123456789018"


@pytest.fixture(scope="module")
def issued(authority: CardAuthority) -> CardCredentials:
    return authority.issue_for("pki-person", "試験 太郎", BIRTH, ISSUED, address="東京都千代田区1-1", sex="1")


def _rsa_pub(cert: x509.Certificate) -> rsa.RSAPublicKey:
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def test_certificates_chain_to_their_cas(authority: CardAuthority, issued: CardCredentials) -> None:
    for leaf, ca in (
        (issued.auth_certificate, authority.auth_ca_cert),
        (issued.sign_certificate, authority.sign_ca_cert),
    ):
        assert leaf.issuer == ca.subject
        leaf.verify_directly_issued_by(ca)
        assert _rsa_pub(leaf).key_size == 2048
    assert issued.auth_ca_cert_der == authority.auth_ca_cert_der
    assert authority.auth_ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_keys_match_certificates(issued: CardCredentials) -> None:
    for key, cert in (
        (issued.auth_private_key, issued.auth_certificate),
        (issued.sign_private_key, issued.sign_certificate),
    ):
        sig = key.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
        _rsa_pub(cert).verify(sig, b"m", padding.PKCS1v15(), hashes.SHA256())


def test_validity_runs_to_the_fifth_birthday_after_issue(issued: CardCredentials) -> None:
    assert issued.not_before == dt.datetime(2024, 4, 1, tzinfo=JST)
    # birthdays after 2024-04-01: 2024-06-15 (1st) … 2028-06-15 (5th)
    assert issued.not_after == dt.datetime(2028, 6, 15, 23, 59, 59, tzinfo=JST)
    assert issued.sign_certificate.not_valid_after_utc == issued.not_after


def test_subjects_never_contain_personal_data_or_the_number(authority: CardAuthority) -> None:
    creds = authority.issue_for("pki-number-" + NUMBER, "試験 花子", BIRTH, ISSUED, sex="2")
    for cert in (creds.auth_certificate, creds.sign_certificate):
        subject = cert.subject.rfc4514_string()
        assert NUMBER not in subject
        assert "試験" not in subject
    assert not any(NUMBER.encode() in der for der in (creds.auth_cert_der, creds.sign_cert_der))


def test_sign_certificate_carries_the_four_attributes(issued: CardCredentials) -> None:
    san = issued.sign_certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = {o.type_id: o.value for o in san.get_values_for_type(x509.OtherName)}
    assert names[OID_JLIS_NAME] == b"\x0c" + bytes([len("試験 太郎".encode())]) + "試験 太郎".encode()
    with pytest.raises(x509.ExtensionNotFound):
        issued.auth_certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def test_serials_are_unique(authority: CardAuthority, issued: CardCredentials) -> None:
    other = authority.issue_for("pki-person-2", "模擬 一郎", BIRTH, ISSUED)
    serials = [issued.auth_serial, issued.sign_serial, other.auth_serial, other.sign_serial]
    assert len(set(serials)) == 4
    assert authority.issued_serials[issued.auth_serial] is CertKind.AUTH


def test_serials_are_deterministic_per_seed(key_cache: KeyCache) -> None:
    a = CardAuthority.create(key_cache=key_cache, seed=5).issue_for("det", "検証 優", BIRTH, ISSUED)
    b = CardAuthority.create(key_cache=key_cache, seed=5).issue_for("det", "検証 優", BIRTH, ISSUED)
    assert (a.auth_serial, a.sign_serial) == (b.auth_serial, b.sign_serial)
    assert a.auth_key_der == b.auth_key_der  # same key from the cache


def test_crl_lists_revoked_serials_per_ca(authority: CardAuthority) -> None:
    creds = authority.issue_for("pki-revoked", "模擬 桜", BIRTH, ISSUED)
    when = dt.datetime(2025, 1, 1, tzinfo=JST)
    authority.revoke(creds.auth_serial, revoked_on=when)
    auth_crl = x509.load_der_x509_crl(authority.crl(CertKind.AUTH, this_update=when))
    sign_crl = x509.load_der_x509_crl(authority.crl(CertKind.SIGN, this_update=when))
    assert auth_crl.is_signature_valid(_rsa_pub(authority.auth_ca_cert))
    revoked = auth_crl.get_revoked_certificate_by_serial_number(creds.auth_serial)
    assert revoked is not None
    assert revoked.revocation_date_utc == when
    assert sign_crl.get_revoked_certificate_by_serial_number(creds.auth_serial) is None
    assert authority.is_revoked(creds.auth_serial)
    assert not authority.is_revoked(creds.sign_serial)


def test_revoking_an_unknown_serial_fails(authority: CardAuthority) -> None:
    with pytest.raises(KeyError, match="not issued"):
        authority.revoke(12345)


def test_key_cache_persists_pem_files(tmp_path: Path) -> None:
    cache = KeyCache(tmp_path)
    key = cache.rsa_key("person/with odd:chars")
    files = list(tmp_path.glob("*.pem"))
    assert len(files) == 1
    assert files[0].read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = KeyCache(tmp_path).rsa_key("person/with odd:chars")
    assert again.private_numbers() == key.private_numbers()


def test_bad_inputs_are_rejected(authority: CardAuthority) -> None:
    with pytest.raises(ValueError, match="sex"):
        authority.issue_for("x", "n", BIRTH, ISSUED, sex="3")
    with pytest.raises(ValueError, match="after"):
        authority.issue_for("x", "n", dt.date(2030, 1, 1), ISSUED)
