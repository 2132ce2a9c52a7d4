"""Small helpers shared by the two test PKIs: 医療機関 TLS (institution_pki.py) and My Number cards
(card/authority.py)."""

from __future__ import annotations

from cryptography import x509

CA_USAGE = {"key_cert_sign", "crl_sign"}  # rustls rejects CRLs from an issuer without cRLSign
SIGNING_USAGE = {"digital_signature"}
NON_REPUDIATION_USAGE = {"digital_signature", "content_commitment"}


def key_usage(enabled: set[str]) -> x509.KeyUsage:
    """x509.KeyUsage with exactly `enabled` set; every other bit False (its constructor wants all nine)."""
    bits = (
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
        "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    )  # fmt: skip
    unknown = enabled - set(bits)
    if unknown:
        raise ValueError(f"unknown key usage bits {sorted(unknown)}")
    return x509.KeyUsage(**{bit: bit in enabled for bit in bits})
