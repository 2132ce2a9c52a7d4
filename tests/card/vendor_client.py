"""pyscard client code written the way public readers are (lanesky/mnbcard style).

Deliberately independent of mockgateway.card: plain lists of ints, hand-built APDUs, the
certificate read with mnbcard's READ BINARY loop. Shared by the pcscd and in-process tests.
"""

from __future__ import annotations

import hashlib
from typing import Any

JPKI_AP = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01]
SHA256_DIGEST_INFO_HEADER = [0x30, 0x31, 0x30, 0x0D, 0x06, 0x09]
SHA256_OID = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]


class ApduFailed(AssertionError):
    pass


def send(connection: Any, apdu: list[int]) -> tuple[list[int], int, int]:
    data, sw1, sw2 = connection.transmit(apdu)
    if sw1 != 0x90:
        raise ApduFailed(f"APDU ERROR: sw1={sw1:x} sw2={sw2:x} for {bytes(apdu).hex()}")
    return data, sw1, sw2


def login(connection: Any, pin: str, message: bytes) -> tuple[bytes, bytes, int]:
    """The 利用者証明 sequence. Returns (auth certificate DER, signature, tries before VERIFY)."""
    # SELECT FILE: 公的個人認証AP
    send(connection, [0x00, 0xA4, 0x04, 0x0C, len(JPKI_AP), *JPKI_AP])
    # is this a My Number card? token EF 0006
    send(connection, [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x06])
    token, _, _ = send(connection, [0x00, 0xB0, 0x00, 0x00, 0x20])
    if bytes(token).rstrip(b" ") != b"JPKIAPICCTOKEN2":
        raise ApduFailed(f"not a JPKI card: token {bytes(token)!r}")
    # SELECT FILE: 認証用証明書; READ BINARY: 4-byte header, then 256-byte chunks
    send(connection, [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A])
    head, _, _ = send(connection, [0x00, 0xB0, 0x00, 0x00, 0x04])
    der: list[int] = []
    for i in range(head[-2] + 1):
        data, _, _ = send(connection, [0x00, 0xB0, i, 0x00, 0x00])
        der += data
    der = der[: ((head[2] << 8) | head[3]) + 4]
    # SELECT FILE: 認証用PIN; retry counter query (no data)
    send(connection, [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18])
    _, sw1, sw2 = connection.transmit([0x00, 0x20, 0x00, 0x80])
    if sw1 != 0x63:
        raise ApduFailed(f"retry query: sw1={sw1:x} sw2={sw2:x}")
    tries = sw2 & 0x0F
    # VERIFY: 認証用PIN
    pin_bytes = [ord(c) for c in pin]
    send(connection, [0x00, 0x20, 0x00, 0x80, len(pin_bytes), *pin_bytes])
    # SELECT FILE: 認証用秘密鍵; COMPUTE DIGITAL SIGNATURE over a SHA-256 DigestInfo
    send(connection, [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x17])
    digest_info = SHA256_DIGEST_INFO_HEADER + SHA256_OID + list(hashlib.sha256(message).digest())
    signature, _, _ = send(connection, [0x80, 0x2A, 0x00, 0x80, len(digest_info), *digest_info, 0x00])
    return bytes(der), bytes(signature), tries
