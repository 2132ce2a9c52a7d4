"""A J-LIS-like TEST certificate authority for My Number cards.

Issues, per person, a 利用者証明用電子証明書 (user authentication) and a 署名用電子証明書
(digital signature) certificate with 2048-bit RSA keys, keeps the two CA certificates, and
produces CRLs listing revoked serials. Everything is synthetic and labelled TEST.

Shape of the certificates (J-LIS-like, not a copy of the real profile):

* 利用者証明用: subject ``C=JP, CN=<random-looking 20 characters>``: no personal data at
  all, as on real cards (the online eligibility system identifies people by this certificate's
  serial, never by the 12-digit individual number).
* 署名用: the same kind of subject; name, address, birth date and sex go into
  subjectAltName otherNames (J-LIS style OIDs under 1.2.392.200149.8.5.5).
* Neither certificate ever contains the individual number.
* Validity: from the issue date (00:00 JST) to the end of the 5th birthday after issue
  (23:59:59 JST), as for real JPKI certificates.

RSA key generation costs 50-100 ms per key, so the keys come from a `KeyCache` (keys.py) that can
keep them as PEM files in a directory test suites reuse.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from mockgateway.card.keys import KeyCache, der_private_key, load_rsa_der
from mockgateway.certs.x509util import CA_USAGE, NON_REPUDIATION_USAGE, SIGNING_USAGE, key_usage
from mockgateway.domain.certificate import nth_birthday_after

JST = dt.timezone(dt.timedelta(hours=9), "JST")

# subjectAltName otherName types in the style of J-LIS' 署名用 certificates.
OID_JLIS_NAME = ObjectIdentifier("1.2.392.200149.8.5.5.1")
OID_JLIS_SEX = ObjectIdentifier("1.2.392.200149.8.5.5.3")
OID_JLIS_BIRTH_DATE = ObjectIdentifier("1.2.392.200149.8.5.5.4")
OID_JLIS_ADDRESS = ObjectIdentifier("1.2.392.200149.8.5.5.5")

TEST_ORGANIZATION = "JPKI TEST (mockgateway, synthetic)"


class CertKind(Enum):
    """Which of the two JPKI certificate families a certificate or CRL belongs to."""

    AUTH = "auth"  # 利用者証明用
    SIGN = "sign"  # 署名用


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), JST)


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), JST)


def _der_utf8_string(text: str) -> bytes:
    # otherName values are DER-encoded ASN.1; UTF8String is tag 0x0C.
    raw = text.encode("utf-8")
    return b"\x0c" + _der_length(len(raw)) + raw


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


@dataclass(frozen=True)
class CardCredentials:
    """One person's JPKI keys and certificates, all DER (keys are PKCS#8)."""

    person_id: str
    auth_key_der: bytes
    auth_cert_der: bytes
    sign_key_der: bytes
    sign_cert_der: bytes
    auth_ca_cert_der: bytes
    sign_ca_cert_der: bytes

    @cached_property
    def auth_private_key(self) -> rsa.RSAPrivateKey:
        return load_rsa_der(self.auth_key_der)

    @cached_property
    def sign_private_key(self) -> rsa.RSAPrivateKey:
        return load_rsa_der(self.sign_key_der)

    @cached_property
    def auth_certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.auth_cert_der)

    @cached_property
    def sign_certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.sign_cert_der)

    @property
    def auth_serial(self) -> int:
        return self.auth_certificate.serial_number

    @property
    def sign_serial(self) -> int:
        return self.sign_certificate.serial_number

    @property
    def not_before(self) -> dt.datetime:
        return self.auth_certificate.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.auth_certificate.not_valid_after_utc


@dataclass
class _Revocation:
    serial: int
    kind: CertKind
    revoked_on: dt.datetime


@dataclass
class CardAuthority:
    """The TEST CA pair (利用者証明用 and 署名用) with its issuance and revocation records.

    Build with `CardAuthority.create`. Serial numbers come from a seeded generator, so the
    same sequence of calls with the same seed yields the same serials.
    """

    auth_ca_key: rsa.RSAPrivateKey
    sign_ca_key: rsa.RSAPrivateKey
    auth_ca_cert: x509.Certificate
    sign_ca_cert: x509.Certificate
    key_cache: KeyCache
    clock: Callable[[], dt.datetime]
    _rng: random.Random
    _issued: dict[int, CertKind] = field(default_factory=dict)
    _revoked: dict[int, _Revocation] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        *,
        key_cache: KeyCache | str | os.PathLike[str] | None = None,
        seed: int = 0,
        ca_valid_from: dt.date = dt.date(2020, 1, 1),
        ca_valid_until: dt.date = dt.date(2045, 12, 31),
        clock: Callable[[], dt.datetime] | None = None,
    ) -> CardAuthority:
        """A new authority. `key_cache` is a `KeyCache` or a directory for one (None: no disk).

        `clock` supplies "now" for CRL thisUpdate and revocation dates (default: real time).
        """
        cache = key_cache if isinstance(key_cache, KeyCache) else KeyCache(key_cache)
        auth_key = cache.rsa_key(f"jpki-test-ca-auth-{seed}")
        sign_key = cache.rsa_key(f"jpki-test-ca-sign-{seed}")
        not_before = _start_of_day(ca_valid_from)
        not_after = _end_of_day(ca_valid_until)
        # Distinct CA serials per seed and per CA, so the two CA certificates never share one.
        auth_ca = _ca_certificate(auth_key, "JPKI TEST for user authentication", not_before, not_after, 1000 + 2 * seed)
        sign_ca = _ca_certificate(sign_key, "JPKI TEST for digital signature", not_before, not_after, 1001 + 2 * seed)
        return cls(
            auth_ca_key=auth_key,
            sign_ca_key=sign_key,
            auth_ca_cert=auth_ca,
            sign_ca_cert=sign_ca,
            key_cache=cache,
            clock=clock if clock is not None else (lambda: dt.datetime.now(JST)),
            _rng=random.Random(seed),
        )

    @property
    def auth_ca_cert_der(self) -> bytes:
        return self.auth_ca_cert.public_bytes(serialization.Encoding.DER)

    @property
    def sign_ca_cert_der(self) -> bytes:
        return self.sign_ca_cert.public_bytes(serialization.Encoding.DER)

    def issue_for(
        self,
        person_id: str,
        name: str,
        birthdate: dt.date,
        issued_on: dt.date,
        *,
        address: str = "",
        sex: str = "9",
        expires_on: dt.date | None = None,
    ) -> CardCredentials:
        """Keys and both certificates for one person (keys come from the key cache by person_id).

        `sex` is the ISO 5218 code as on the card (1 male, 2 female, 9 not applicable).
        Validity runs from `issued_on` to the 5th birthday after it, or to the end of
        `expires_on` when given (fixtures and scenarios pin the expiry day).
        """
        if not person_id:
            raise ValueError("person_id: must not be empty")
        if sex not in {"1", "2", "9"}:
            raise ValueError(f"sex: expected ISO 5218 code 1, 2 or 9, got {sex!r}")
        if expires_on is not None and expires_on < issued_on:
            raise ValueError(f"expires_on {expires_on} is before issued_on {issued_on}")
        not_before = _start_of_day(issued_on)
        not_after = _end_of_day(expires_on or nth_birthday_after(birthdate, issued_on, 5))
        auth_key = self.key_cache.rsa_key(f"{person_id}-auth")
        sign_key = self.key_cache.rsa_key(f"{person_id}-sign")
        auth_serial = self._new_serial(CertKind.AUTH)
        sign_serial = self._new_serial(CertKind.SIGN)

        auth_cert = (
            self._leaf_builder(auth_key, auth_serial, not_before, not_after, self.auth_ca_cert)
            .add_extension(
                key_usage(SIGNING_USAGE),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.auth_ca_key, hashes.SHA256())
        )
        alt_names: list[x509.GeneralName] = [
            x509.OtherName(OID_JLIS_NAME, _der_utf8_string(name)),
            x509.OtherName(OID_JLIS_BIRTH_DATE, _der_utf8_string(birthdate.strftime("%Y%m%d"))),
            x509.OtherName(OID_JLIS_SEX, _der_utf8_string(sex)),
        ]
        if address:
            alt_names.append(x509.OtherName(OID_JLIS_ADDRESS, _der_utf8_string(address)))
        sign_cert = (
            self._leaf_builder(sign_key, sign_serial, not_before, not_after, self.sign_ca_cert)
            .add_extension(
                key_usage(NON_REPUDIATION_USAGE),
                critical=True,
            )
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .sign(self.sign_ca_key, hashes.SHA256())
        )
        return CardCredentials(
            person_id=person_id,
            auth_key_der=der_private_key(auth_key),
            auth_cert_der=auth_cert.public_bytes(serialization.Encoding.DER),
            sign_key_der=der_private_key(sign_key),
            sign_cert_der=sign_cert.public_bytes(serialization.Encoding.DER),
            auth_ca_cert_der=self.auth_ca_cert_der,
            sign_ca_cert_der=self.sign_ca_cert_der,
        )

    def revoke(self, serial: int, *, revoked_on: dt.datetime | None = None) -> None:
        """Mark an issued certificate as revoked; it appears on its CA's next CRL."""
        kind = self._issued.get(serial)
        if kind is None:
            raise KeyError(f"serial {serial:#x}: not issued by this authority")
        when = revoked_on if revoked_on is not None else self.clock()
        self._revoked.setdefault(serial, _Revocation(serial, kind, when))

    def is_revoked(self, serial: int) -> bool:
        return serial in self._revoked

    @property
    def issued_serials(self) -> Mapping[int, CertKind]:
        return dict(self._issued)

    def crl(
        self,
        kind: CertKind = CertKind.AUTH,
        *,
        this_update: dt.datetime | None = None,
        next_update: dt.datetime | None = None,
    ) -> bytes:
        """DER CRL of the `kind` CA listing its revoked serials (default: 利用者証明用)."""
        now = this_update if this_update is not None else self.clock()
        later = next_update if next_update is not None else now + dt.timedelta(days=1)
        ca_cert, ca_key = self._ca(kind)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_cert.subject)
            .last_update(now)
            .next_update(later)
            .add_extension(x509.CRLNumber(len(self._revoked) + 1), critical=False)
        )
        for rev in self._revocations(kind):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(rev.serial).revocation_date(rev.revoked_on).build()
            )
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def _revocations(self, kind: CertKind) -> Iterable[_Revocation]:
        return (r for r in self._revoked.values() if r.kind is kind)

    def _ca(self, kind: CertKind) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        if kind is CertKind.AUTH:
            return self.auth_ca_cert, self.auth_ca_key
        return self.sign_ca_cert, self.sign_ca_key

    def _new_serial(self, kind: CertKind) -> int:
        while True:
            # Positive, below 2**63, never 0: fits every X.509 consumer.
            serial = self._rng.randrange(1, 2**63)
            if serial not in self._issued:
                self._issued[serial] = kind
                return serial

    def _leaf_builder(
        self,
        key: rsa.RSAPrivateKey,
        serial: int,
        not_before: dt.datetime,
        not_after: dt.datetime,
        issuer: x509.Certificate,
    ) -> x509.CertificateBuilder:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.COMMON_NAME, _opaque_common_name(serial)),
            ]
        )
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject)
            .public_key(key.public_key())
            .serial_number(serial)
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(_rsa_public(issuer)), critical=False)
        )


def _rsa_public(cert: x509.Certificate) -> rsa.RSAPublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("expected an RSA CA certificate")
    return key


def _opaque_common_name(serial: int) -> str:
    # Real JPKI subjects carry a meaningless identifier; derive one from the serial so it is
    # stable and can never contain the individual number (only base-32 letters and digits 2-7).
    digest = hashlib.sha256(f"jpki-test-cn:{serial}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "".join(alphabet[b % 32] for b in digest[:20])


def _ca_certificate(
    key: rsa.RSAPrivateKey, unit: str, not_before: dt.datetime, not_after: dt.datetime, serial: int
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{unit} - NOT FOR PRODUCTION"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            key_usage(CA_USAGE),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
