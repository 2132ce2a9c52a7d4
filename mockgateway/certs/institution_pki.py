"""Test PKI for the Web API's TLS listener: a TEST CA, a server certificate, 医療機関 client
certificates and a CRL, written as PEM files with stable names in one directory.

Layout of the directory (all PEM; keys are unencrypted PKCS#8 because granian only loads PKCS#8):

    ca.pem, ca-key.pem                 the TEST CA (self-signed)
    server.pem, server-key.pem         TLS server certificate for localhost / 127.0.0.1 / ::1
    crl.pem                            the CA's CRL (v2, with CRL number); the list of revocations
    <code>-<status>.pem, -key.pem      a 医療機関 client certificate and its key
    <code>-<status>.p12                the same as PKCS#12 (password CLIENT_P12_PASSWORD)

The 医療機関コード (10 digits) is carried twice in a client certificate's subject: as the
commonName and as the serialNumber attribute (OID 2.5.4.5). `medical_institution_code` reads
serialNumber first and requires CN to agree when both are present.

All validity periods are relative to a `now` argument (default: real UTC now) so that
certificates can be issued "as of" the gateway's virtual clock. TLS stacks (granian/rustls, the
client's OpenSSL) check validity against *real* time, so for TLS tests issue with the default.

Keys are ECDSA P-256: fast to generate (tests create many) and accepted by rustls and OpenSSL.

There is no locking: one writer per directory. Files are replaced atomically, so readers (a
server starting up) never see a half-written file.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mockgateway.certs.x509util import CA_USAGE, SIGNING_USAGE, key_usage
from mockgateway.domain.numbers import MedicalInstitutionCode

ClientStatus = Literal["valid", "expired", "revoked", "not_yet_valid"]
CLIENT_STATUSES: tuple[ClientStatus, ...] = get_args(ClientStatus)

CA_COMMON_NAME = "mockgateway TEST CA - NOT FOR PRODUCTION"
TEST_ORGANIZATION = "mockgateway TEST"
SERVER_DNS_NAMES = ("localhost",)
SERVER_IP_ADDRESSES = ("127.0.0.1", "::1")
CLIENT_P12_PASSWORD = b"mockgateway"  # synthetic test keys only; documented in docs/pki.md

CA_LIFETIME = dt.timedelta(days=20 * 365)
SERVER_LIFETIME = dt.timedelta(days=10 * 365)
CLIENT_LIFETIME = dt.timedelta(days=2 * 365)
CRL_LIFETIME = dt.timedelta(days=10 * 365)
# notBefore is backdated so a certificate issued "now" is accepted by a peer whose clock lags.
BACKDATE = dt.timedelta(days=1)
# how far ahead a not_yet_valid certificate starts (far enough for any test run to finish first)
NOT_YET_VALID_DELAY = dt.timedelta(days=30)

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"
CRL = "crl.pem"


class PKIError(Exception):
    """The PKI directory is missing or inconsistent, or a certificate lacks a 医療機関コード."""


@dataclass(frozen=True, slots=True)
class ClientCertificate:
    """Where an issued client certificate was written, and what it says."""

    medical_institution_code: str
    status: ClientStatus
    name: str
    serial_number: int
    not_before: dt.datetime  # UTC
    not_after: dt.datetime  # UTC
    cert: Path
    key: Path
    p12: Path

    @property
    def requests_cert(self) -> tuple[str, str]:
        """The `cert=` argument for requests / httpx."""
        return (str(self.cert), str(self.key))


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        # a naive time could be JST or UTC: a 9-hour error would silently shift validity
        raise ValueError(f"now must be timezone-aware, got naive {now.isoformat()}")
    return now.astimezone(dt.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    """Atomic replace, so a server reading the directory never sees a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PKIError(f"{path}: expected an ECDSA key, got {type(key).__name__}")
    return key


def _same_public_key(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> bool:
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_key().public_bytes(*fmt) == key.public_key().public_bytes(*fmt)


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def validate_medical_institution_code(code: str) -> str:
    """The code, if it is a well-formed 医療機関コード (10 digits, 点数表 1/3/4 or 6–9 (docs/limited.md), check digit).

    Raises `mockgateway.domain.numbers.NumberError` (a ValueError) naming the rule broken.
    """
    return MedicalInstitutionCode.parse(code).value


class TestPKI:
    """A test PKI rooted at a directory. `TestPKI.init(d)` creates it; `TestPKI(d)` opens it."""

    __test__ = False  # the name starts with "Test": keep pytest from collecting it

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        for name in (CA_CERT, CA_KEY, SERVER_CERT, SERVER_KEY, CRL):
            if not (self.directory / name).is_file():
                raise PKIError(f"{self.directory / name} is missing: run TestPKI.init({str(directory)!r})")
        self._ca_cert = _load_cert(self.ca_cert)
        self._ca_key = _load_key(self.directory / CA_KEY)
        # granian aborts the whole process (a Rust panic) on an unreadable CA or CRL file, so a
        # TestPKI that opened without error must mean the files are fit to hand to it.
        _load_cert(self.server_cert)
        try:
            crl = self._load_crl()
        except ValueError as exc:
            raise PKIError(f"{self.crl} is not a readable CRL ({exc}): run TestPKI.init again") from None
        if crl.issuer != self._ca_cert.subject:
            raise PKIError(f"{self.crl} was not issued by {self.ca_cert}: run TestPKI.init again")

    # -- paths ---------------------------------------------------------------------------------

    @property
    def ca_cert(self) -> Path:
        return self.directory / CA_CERT

    @property
    def server_cert(self) -> Path:
        return self.directory / SERVER_CERT

    @property
    def server_key(self) -> Path:
        return self.directory / SERVER_KEY

    @property
    def crl(self) -> Path:
        return self.directory / CRL

    def client_paths(self, medical_institution_code: str, status: ClientStatus) -> tuple[Path, Path, Path]:
        """(cert, key, p12) paths for a client certificate, issued or not."""
        stem = f"{medical_institution_code}-{status}"
        d = self.directory
        return d / f"{stem}.pem", d / f"{stem}-key.pem", d / f"{stem}.p12"

    # -- creation ------------------------------------------------------------------------------

    @classmethod
    def init(
        cls, directory: Path | str, *, now: dt.datetime | None = None, ca_common_name: str = CA_COMMON_NAME
    ) -> TestPKI:
        """Create the CA, server certificate and CRL if absent; reuse what is there and consistent.

        `ca_common_name` only applies when a CA is created (e.g. to tell two test PKIs apart:
        a client certificate of a same-named foreign CA fails differently from an unknown CA).

        A CA whose cert or key is missing or mismatched is replaced, and then the server
        certificate and CRL are reissued (they would not verify against the new CA). Client
        certificates of a replaced CA are left on disk but no longer verify.
        """
        utc = _utc(now)
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)

        ca_cert, ca_key = cls._load_or_create_ca(d, utc, ca_common_name)
        server_ok = False
        if (d / SERVER_CERT).is_file() and (d / SERVER_KEY).is_file():
            server = _load_cert(d / SERVER_CERT)
            server_ok = _issued_by(server, ca_cert) and _same_public_key(server, _load_key(d / SERVER_KEY))
        if not server_ok:
            cls._create_server(d, ca_cert, ca_key, utc)

        crl_ok = False
        if (d / CRL).is_file():
            crl = x509.load_pem_x509_crl((d / CRL).read_bytes())
            crl_ok = crl.issuer == ca_cert.subject and crl.is_signature_valid(ca_key.public_key())
        if not crl_ok:
            _write(d / CRL, _build_crl(ca_cert, ca_key, [], 1, utc).public_bytes(serialization.Encoding.PEM))
        return cls(d)

    @staticmethod
    def _load_or_create_ca(
        d: Path, utc: dt.datetime, common_name: str
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        if (d / CA_CERT).is_file() and (d / CA_KEY).is_file():
            cert, key = _load_cert(d / CA_CERT), _load_key(d / CA_KEY)
            if _same_public_key(cert, key):
                return cert, key
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(utc - BACKDATE)
            .not_valid_after(utc + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                key_usage(CA_USAGE),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        _write(d / CA_KEY, _key_pem(key), private=True)
        _write(d / CA_CERT, cert.public_bytes(serialization.Encoding.PEM))
        return cert, key

    @staticmethod
    def _create_server(
        d: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, utc: dt.datetime
    ) -> None:
        key = _new_key()
        san: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_DNS_NAMES]
        san += [x509.IPAddress(ipaddress.ip_address(a)) for a in SERVER_IP_ADDRESSES]
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, TEST_ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
            ]
        )
        cert = (
            _leaf_builder(ca_cert, ca_key, key, subject, utc - BACKDATE, utc + SERVER_LIFETIME)
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write(d / SERVER_KEY, _key_pem(key), private=True)
        _write(d / SERVER_CERT, cert.public_bytes(serialization.Encoding.PEM))

    # -- clients -------------------------------------------------------------------------------

    def issue_client(
        self,
        medical_institution_code: str,
        status: ClientStatus = "valid",
        name: str | None = None,
        *,
        now: dt.datetime | None = None,
        check_code: bool = True,
    ) -> ClientCertificate:
        """Issue a 医療機関 client certificate and write `<code>-<status>.pem`, `-key.pem`, `.p12`.

        valid: notBefore now−1d, notAfter now+2y. expired: notAfter now−1d.
        not_yet_valid: notBefore now+30d. revoked: like valid, then listed in the CRL (rewritten).
        Reissuing the same code and status overwrites the files with a new key and serial.
        `check_code=False` allows a malformed code (to test the gateway's own rejection).
        """
        if status not in CLIENT_STATUSES:
            raise ValueError(f"status: expected one of {', '.join(CLIENT_STATUSES)}, got {status!r}")
        code = medical_institution_code
        if check_code:
            code = validate_medical_institution_code(code)
        utc = _utc(now)
        if status == "expired":
            not_before, not_after = utc - CLIENT_LIFETIME, utc - BACKDATE
        elif status == "not_yet_valid":
            not_before = utc + NOT_YET_VALID_DELAY
            not_after = not_before + CLIENT_LIFETIME
        else:
            not_before, not_after = utc - BACKDATE, utc + CLIENT_LIFETIME
        display_name = name or f"mockgateway テスト医療機関 {code}"
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, display_name),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, code),
                x509.NameAttribute(NameOID.COMMON_NAME, code),
            ]
        )
        key = _new_key()
        cert = (
            _leaf_builder(self._ca_cert, self._ca_key, key, subject, not_before, not_after)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        cert_path, key_path, p12_path = self.client_paths(code, status)
        _write(key_path, _key_pem(key), private=True)
        _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        p12 = pkcs12.serialize_key_and_certificates(
            display_name.encode(),
            key,
            cert,
            [self._ca_cert],
            serialization.BestAvailableEncryption(CLIENT_P12_PASSWORD),
        )
        _write(p12_path, p12, private=True)
        if status == "revoked":
            self.revoke(cert, now=utc)
        return ClientCertificate(
            medical_institution_code=code,
            status=status,
            name=display_name,
            serial_number=cert.serial_number,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            cert=cert_path,
            key=key_path,
            p12=p12_path,
        )

    # -- revocation ----------------------------------------------------------------------------

    def revoked_serial_numbers(self) -> frozenset[int]:
        return frozenset(r.serial_number for r in self._load_crl())

    def revoke(self, cert: x509.Certificate | Path, *, now: dt.datetime | None = None) -> int:
        """List a certificate of this CA in the CRL and rewrite crl.pem (CRL number + 1); its serial.

        A granian server reads the CRL when it is built: a running gateway rebuilds its login
        listener when crl.pem changes (mockgateway.listeners), other servers must be restarted.
        """
        if isinstance(cert, Path):
            cert = _load_cert(cert)
        if not _issued_by(cert, self._ca_cert):
            raise PKIError(f"certificate serial {cert.serial_number:x} was not issued by {self.ca_cert}")
        utc = _utc(now)
        old = self._load_crl()
        entries = [(r.serial_number, r.revocation_date_utc) for r in old]
        if cert.serial_number in {serial for serial, _ in entries}:
            return int(cert.serial_number)
        entries.append((cert.serial_number, utc))
        number = old.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number + 1
        crl = _build_crl(self._ca_cert, self._ca_key, entries, number, utc)
        _write(self.crl, crl.public_bytes(serialization.Encoding.PEM))
        return int(cert.serial_number)

    def _load_crl(self) -> x509.CertificateRevocationList:
        return x509.load_pem_x509_crl(self.crl.read_bytes())


def _leaf_builder(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            key_usage(SIGNING_USAGE),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )


def _build_crl(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    entries: list[tuple[int, dt.datetime]],
    number: int,
    utc: dt.datetime,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(utc - BACKDATE)
        .next_update(utc + CRL_LIFETIME)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    for serial, when in entries:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca_key, hashes.SHA256())


# -- reading the 医療機関コード back ------------------------------------------------------------


def medical_institution_code(cert: x509.Certificate | Path | bytes) -> str:
    """The 医療機関コード of a client certificate (PEM/DER bytes, a PEM file, or a parsed cert).

    Reads subject serialNumber, else CN; if both are present they must agree.
    """
    if isinstance(cert, Path):
        cert = cert.read_bytes()
    if isinstance(cert, bytes):
        cert = (
            x509.load_pem_x509_certificate(cert)
            if cert.lstrip().startswith(b"-----")
            else x509.load_der_x509_certificate(cert)
        )
    values: dict[str, str] = {}
    for label, oid in (("serialNumber", NameOID.SERIAL_NUMBER), ("CN", NameOID.COMMON_NAME)):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            value = attrs[0].value
            values[label] = value if isinstance(value, str) else value.decode()
    if not values:
        raise PKIError(f"subject {cert.subject.rfc4514_string()} has neither serialNumber nor CN")
    if len(set(values.values())) > 1:
        raise PKIError(f"subject serialNumber {values['serialNumber']!r} and CN {values['CN']!r} differ")
    return next(iter(values.values()))


# -- CLI entry points (wired into argparse by mockgateway.cli) ---------------------------------


def cli_init(directory: Path | str) -> str:
    """`mockgateway pki init --dir D`: create or reuse the PKI; a summary to print."""
    pki = TestPKI.init(directory)
    ca = _load_cert(pki.ca_cert)
    server = _load_cert(pki.server_cert)
    revoked = len(pki.revoked_serial_numbers())
    return "\n".join(
        [
            f"TEST PKI in {pki.directory}",
            f"  CA       {pki.ca_cert}  ({ca.subject.rfc4514_string()}; until {ca.not_valid_after_utc:%Y-%m-%d})",
            f"  server   {pki.server_cert} + {pki.server_key.name}  (localhost, 127.0.0.1, ::1; "
            f"until {server.not_valid_after_utc:%Y-%m-%d})",
            f"  CRL      {pki.crl}  ({revoked} revoked)",
        ]
    )


def cli_issue(directory: Path | str, code: str, status: ClientStatus = "valid", name: str | None = None) -> str:
    """`mockgateway pki issue --code C --status S --dir D`: issue one client certificate."""
    pki = TestPKI.init(directory)
    issued = pki.issue_client(code, status, name)
    lines = [
        f"{issued.status} client certificate for 医療機関コード {issued.medical_institution_code} ({issued.name})",
        f"  cert     {issued.cert}",
        f"  key      {issued.key}",
        f"  p12      {issued.p12}  (password {CLIENT_P12_PASSWORD.decode()})",
        f"  serial   {issued.serial_number:x}",
        f"  valid    {issued.not_before:%Y-%m-%d %H:%M:%S} .. {issued.not_after:%Y-%m-%d %H:%M:%S} UTC",
    ]
    if status == "revoked":
        lines.append(f"  revoked  listed in {pki.crl}; a running gateway applies it within a second")
    return "\n".join(lines)


def cli_revoke(directory: Path | str, code: str, status: ClientStatus = "valid", cert: Path | None = None) -> str:
    """`mockgateway pki revoke --code C [--status S] [--cert PEM] --dir D`: list a client certificate
    in the CRL. A gateway running on this PKI notices the new crl.pem and restarts its login
    listener (the search listener and the folders keep running)."""
    pki = TestPKI(directory)
    path = cert or pki.client_paths(code, status)[0]
    if not path.is_file():
        raise PKIError(f"{path} does not exist: issue it first (mockgateway pki issue --code {code} --status {status})")
    serial = pki.revoke(path)
    return "\n".join(
        [
            f"revoked  {path}  (serial {serial:x})",
            f"  CRL      {pki.crl}  ({len(pki.revoked_serial_numbers())} revoked)",
            "  a gateway serving this PKI restarts its login listener within a second; or POST /admin/pki/revoke",
        ]
    )
