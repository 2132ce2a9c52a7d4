"""The card's signature primitive (card/signing.py); the card's 80 2A itself: test_model.py."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from mockgateway.card.profile import CardState
from mockgateway.card.signing import digest_info, pkcs1_v15_sign_raw


def test_raw_rsa_path_matches_cryptography(state: CardState) -> None:
    key = state.credentials.auth_private_key
    di = digest_info(hashes.SHA256(), hashlib.sha256(b"z").digest())
    # force the raw path with an unrecognised payload, then check PKCS#1 v1.5 by hand
    payload = b"\x01\x02\x03"
    sig = pkcs1_v15_sign_raw(key, payload)
    em = pow(int.from_bytes(sig, "big"), key.public_key().public_numbers().e, key.public_key().public_numbers().n)
    assert em.to_bytes(256, "big") == b"\x00\x01" + b"\xff" * (256 - 3 - 3) + b"\x00" + payload
    # and the Prehashed path gives what cryptography gives for the same message
    assert pkcs1_v15_sign_raw(key, di) == key.sign(b"z", padding.PKCS1v15(), hashes.SHA256())
