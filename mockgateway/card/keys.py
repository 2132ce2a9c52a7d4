"""The card's RSA keys: generated once per label and cached, in memory and optionally on disk.

RSA key generation costs 50-100 ms per key, so `KeyCache` can keep keys as PEM files in a
directory that test suites reuse (keys are synthetic, so caching them on disk is harmless).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

RSA_BITS = 2048
RSA_PUBLIC_EXPONENT = 65537


class KeyCache:
    """RSA keys by label, optionally persisted as unencrypted PKCS#8 PEM files in `directory`.

    Also memoises in memory, so one process never generates the same label twice. Files are
    written atomically (temp file + rename) so concurrent test processes never read a torn file.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._memory: dict[str, rsa.RSAPrivateKey] = {}

    def rsa_key(self, label: str) -> rsa.RSAPrivateKey:
        """The 2048-bit RSA key for `label`, loaded from the cache or generated and stored."""
        if label in self._memory:
            return self._memory[label]
        key = self._load(label)
        if key is None:
            key = rsa.generate_private_key(public_exponent=RSA_PUBLIC_EXPONENT, key_size=RSA_BITS)
            self._store(label, key)
        self._memory[label] = key
        return key

    def path_for(self, label: str) -> Path | None:
        if self.directory is None:
            return None
        # Labels come from person ids: keep the name readable but filesystem-safe, and add a
        # hash so that two labels differing only in unsafe characters cannot collide.
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", label)[:80]
        digest = hashlib.sha256(label.encode()).hexdigest()[:12]
        return self.directory / f"{safe}-{digest}.pem"

    def _load(self, label: str) -> rsa.RSAPrivateKey | None:
        path = self.path_for(label)
        if path is None or not path.exists():
            return None
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != RSA_BITS:
            raise ValueError(f"key cache file {path}: expected a {RSA_BITS}-bit RSA private key")
        return key

    def _store(self, label: str, key: rsa.RSAPrivateKey) -> None:
        path = self.path_for(label)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pem")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def der_private_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_rsa_der(der: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("expected an RSA private key")
    return key
