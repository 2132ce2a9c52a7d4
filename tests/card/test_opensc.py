"""OpenSC's own jpki driver as an independent oracle for the card model (through pcscd)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mockgateway.card.model import MyNumberCard
from mockgateway.card.pcscd import PrivatePcscd
from mockgateway.card.profile import MYNUMBER_BLOCKED_6983, MYNUMBER_PROFILE, CardProfile, CardState, PinId
from tests.card.conftest import InsertCard

pytestmark = [pytest.mark.pcscd, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def opensc() -> None:
    missing = [tool for tool in ("opensc-tool", "pkcs15-tool", "pkcs15-crypt") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"OpenSC tools not installed: {', '.join(missing)} (run scripts/setup-pcsc.sh as root)")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, check=False)


def _reader_index(pcscd: PrivatePcscd, reader: str) -> str:
    # OpenSC numbers readers in PC/SC order: slot 00 00 is 0, slot 00 01 is 1.
    return str([pcscd.face_auth_reader, pcscd.plain_reader].index(reader))


def test_opensc_lists_certificates_and_pins(
    opensc: None, pcscd: PrivatePcscd, insert_card: InsertCard, state: CardState
) -> None:
    r = _reader_index(pcscd, insert_card(MyNumberCard(state)))
    assert _run("opensc-tool", "-r", r, "-n").stdout.strip() == "jpki"
    listing = _run("pkcs15-tool", "-r", r, "--list-certificates", "--list-pins")
    assert listing.returncode == 0, listing.stderr
    for label in (
        "User Authentication Certificate",
        "Digital Signature Certificate",
        "User Authentication Certificate CA",
        "Digital Signature Certificate CA",
        "User Authentication PIN",
        "Digital Signature PIN",
    ):
        assert f"[{label}]" in listing.stdout
    serial = state.credentials.auth_serial
    assert f"{serial:X}" in listing.stdout.replace(" ", "")
    assert "Tries left     : 3" in listing.stdout
    assert "Tries left     : 5" in listing.stdout


def test_opensc_signature_verifies(
    opensc: None, pcscd: PrivatePcscd, insert_card: InsertCard, state: CardState, tmp_path: Path
) -> None:
    r = _reader_index(pcscd, insert_card(MyNumberCard(state)))
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"OpenSC cross-check of the card model")
    digest = tmp_path / "h.bin"
    digest.write_bytes(hashlib.sha256(payload.read_bytes()).digest())
    signature = tmp_path / "sig.bin"
    result = _run(
        "pkcs15-crypt", "-r", r, "--sign", "--sha-256", "--pkcs1", "-k", "01",
        "-i", str(digest), "-o", str(signature), "-p", state.auth_pin,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cert = x509.load_der_x509_certificate(state.credentials.auth_cert_der)
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature.read_bytes(), payload.read_bytes(), padding.PKCS1v15(), hashes.SHA256())
    openssl = shutil.which("openssl")
    if openssl is not None:  # the command a person would type, as a second opinion
        pem = tmp_path / "auth.pem"
        pem.write_bytes(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        check = _run(openssl, "dgst", "-sha256", "-verify", str(pem), "-signature", str(signature), str(payload))
        assert check.stdout.strip() == "Verified OK", check.stderr


@pytest.mark.parametrize(
    ("profile", "expect"),
    [(MYNUMBER_PROFILE, "tries-left-0"), (MYNUMBER_BLOCKED_6983, "binding-fails")],
    ids=["63C0", "6983"],
)
def test_opensc_and_a_blocked_pin(
    opensc: None,
    pcscd: PrivatePcscd,
    insert_card: InsertCard,
    make_state: Any,
    profile: CardProfile,
    expect: str,
) -> None:
    """Why the blocked SW matters: OpenSC's jpki driver only understands 63Cx on the query."""
    state: CardState = make_state(3, profile)
    state.tries[PinId.AUTH] = 0
    r = _reader_index(pcscd, insert_card(MyNumberCard(state)))
    listing = _run("pkcs15-tool", "-r", r, "--list-pins")
    if expect == "tries-left-0":
        assert listing.returncode == 0, listing.stderr
        assert "Tries left     : 0" in listing.stdout
    else:
        assert listing.returncode != 0
        assert "Unsupported card" in listing.stderr
