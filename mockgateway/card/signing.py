"""The card's signature primitive: RSASSA-PKCS1-v1_5 over a DigestInfo the client sends (``80 2A``)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

DIGEST_INFO_PREFIXES: dict[bytes, hashes.HashAlgorithm] = {
    bytes.fromhex("3021300906052b0e03021a05000414"): hashes.SHA1(),
    bytes.fromhex("3031300d060960864801650304020105000420"): hashes.SHA256(),
    bytes.fromhex("3041300d060960864801650304020205000430"): hashes.SHA384(),
    bytes.fromhex("3051300d060960864801650304020305000440"): hashes.SHA512(),
}


def digest_info(algorithm: hashes.HashAlgorithm, digest: bytes) -> bytes:
    """The PKCS#1 DigestInfo for `digest` (what a client sends to ``80 2A``)."""
    for prefix, alg in DIGEST_INFO_PREFIXES.items():
        if alg.name == algorithm.name:
            if len(digest) != alg.digest_size:
                raise ValueError(f"{alg.name} digest must be {alg.digest_size} bytes, got {len(digest)}")
            return prefix + digest
    raise ValueError(f"unsupported hash {algorithm.name}")


def pkcs1_v15_sign_raw(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 over `data` taken as the DigestInfo, as the card's 80 2A does.

    A recognised DigestInfo goes through cryptography (Prehashed), which yields the identical
    signature; anything else gets type-1 padding and a raw RSA private operation.
    """
    for prefix, alg in DIGEST_INFO_PREFIXES.items():
        if data.startswith(prefix) and len(data) == len(prefix) + alg.digest_size:
            return key.sign(data[len(prefix) :], padding.PKCS1v15(), utils.Prehashed(alg))
    k = key.key_size // 8
    em = b"\x00\x01" + b"\xff" * (k - 3 - len(data)) + b"\x00" + data
    priv = key.private_numbers()
    m = int.from_bytes(em, "big")
    # CRT form of m^d mod n.
    s1 = pow(m, priv.dmp1, priv.p)
    s2 = pow(m, priv.dmq1, priv.q)
    h = (priv.iqmp * (s1 - s2)) % priv.p
    return (s2 + h * priv.q).to_bytes(k, "big")
