"""A minimal card client over any `transmit(bytes) -> bytes`: the model, pyscard, or a bridge.

Used by tests, the benchmark and workflow code; vendor-like tests deliberately do not use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes

from mockgateway.card import apdu
from mockgateway.card.model import AID_JPKI
from mockgateway.card.signing import digest_info

Transmit = Callable[[bytes], bytes]


class CardError(Exception):
    """A command answered with an unexpected status word."""

    def __init__(self, what: str, sw: int) -> None:
        super().__init__(f"{what}: SW {sw:04X}")
        self.sw = sw


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000


@dataclass
class CardClient:
    transmit_raw: Transmit

    def transmit(self, command: bytes) -> Response:
        raw = self.transmit_raw(command)
        if len(raw) < 2:
            raise CardError("response shorter than a status word", 0)
        return Response(raw[:-2], int.from_bytes(raw[-2:], "big"))

    def expect_ok(self, what: str, command: bytes) -> bytes:
        r = self.transmit(command)
        if not r.ok:
            raise CardError(what, r.sw)
        return r.data

    def select_df(self, aid: bytes) -> None:
        self.expect_ok(f"SELECT DF {aid.hex().upper()}", apdu.select_df(aid))

    def select_ef(self, fid: int) -> None:
        self.expect_ok(f"SELECT EF {fid:04X}", apdu.select_ef(fid))

    def read_binary(self, offset: int, le: int) -> bytes:
        return self.expect_ok(f"READ BINARY {offset}+{le}", apdu.read_binary(offset, le))

    def read_all(self, chunk: int = 256) -> bytes:
        """The whole current EF, sized from its BER-TLV header (certificates, TLV EFs)."""
        head = self.read_binary(0, 8)  # enough for any tag + length header used on the card
        total = _ber_total_length(head)
        out = bytearray(head[: min(len(head), total)])
        while len(out) < total:
            out += self.read_binary(len(out), min(chunk, total - len(out)))
        return bytes(out)

    def tries(self) -> int:
        """Remaining tries of the current PIN EF (0 when the card answers a blocked SW)."""
        r = self.transmit(apdu.verify(None))
        return r.sw & 0x0F if r.sw & 0xFFF0 == 0x63C0 else 0

    def verify(self, pin: str) -> Response:
        return self.transmit(apdu.verify(pin))

    def sign(self, digest_info_bytes: bytes) -> bytes:
        return self.expect_ok("COMPUTE DIGITAL SIGNATURE", apdu.compute_signature(digest_info_bytes))

    def jpki_authenticate(self, pin: str, message: bytes) -> tuple[bytes, bytes]:
        """The 利用者証明 sequence: (auth certificate DER, SHA-256 signature over `message`)."""
        self.select_df(AID_JPKI)
        self.select_ef(0x000A)
        cert = self.read_all()
        self.select_ef(0x0018)
        r = self.verify(pin)
        if not r.ok:
            raise CardError("VERIFY auth PIN", r.sw)
        self.select_ef(0x0017)
        h = hashes.Hash(hashes.SHA256())
        h.update(message)
        return cert, self.sign(digest_info(hashes.SHA256(), h.finalize()))


def _ber_total_length(head: bytes) -> int:
    pos = 1
    if head[0] & 0x1F == 0x1F:
        while head[pos] & 0x80:
            pos += 1
        pos += 1
    first = head[pos]
    pos += 1
    if first < 0x80:
        return pos + first
    count = first & 0x7F
    return pos + count + int.from_bytes(head[pos : pos + count], "big")
