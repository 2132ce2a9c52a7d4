"""The terminal's check of a 暗証番号-mode placement: the card signed the terminal's challenge with the
key of the 利用者証明用電子証明書 it presented (PKCS#1 v1.5, SHA-256)."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def signature_problem(certificate: x509.Certificate, challenge: bytes | None, signature: bytes | None) -> str | None:
    """Why the signature does not prove the PIN was verified, or None."""
    if challenge is None or signature is None:
        return "暗証番号モードの署名がありません"
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        return "RSA 鍵ではありません"
    try:
        key.verify(signature, challenge, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "チャレンジへの署名が証明書の公開鍵で検証できません"
    return None
