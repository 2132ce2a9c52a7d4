"""Command APDU parsing and status words (ISO/IEC 7816-4, short APDUs only)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class SW(IntEnum):
    """Status words this card model answers."""

    OK = 0x9000
    END_OF_FILE = 0x6282  # fewer bytes than Le were available
    WRONG_LENGTH = 0x6700
    FILE_INCOMPATIBLE = 0x6981  # command incompatible with file structure
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    NO_CURRENT_EF = 0x6986
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    OFFSET_OUTSIDE_EF = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


def retries_sw(remaining: int) -> int:
    """63Cx: verification failed / query answer, x = tries left (0..15)."""
    if not 0 <= remaining <= 15:
        raise ValueError(f"remaining tries must be 0..15, got {remaining}")
    return 0x63C0 | remaining


def sw_bytes(sw: int) -> bytes:
    return sw.to_bytes(2, "big")


class ApduError(Exception):
    """Raised inside the card model to answer with a bare status word."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"SW {sw:04X}")
        self.sw = sw


@dataclass(frozen=True)
class CommandAPDU:
    """A parsed short command APDU. `le` is None when absent; Le=00 is stored as 256."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    @property
    def has_data(self) -> bool:
        return bool(self.data)

    @classmethod
    def parse(cls, raw: bytes) -> CommandAPDU:
        """Parse cases 1-4 (short). Extended length is not supported (ApduError 6700)."""
        if len(raw) < 4:
            raise ApduError(SW.WRONG_LENGTH)
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        if not body:  # case 1
            return cls(cla, ins, p1, p2)
        if len(body) == 1:  # case 2: Le only
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            # 00 followed by more bytes would be an extended-length APDU; whether the real card
            # supports extended length is unconfirmed, so the model refuses it.
            raise ApduError(SW.WRONG_LENGTH)
        if len(body) == 1 + lc:  # case 3
            return cls(cla, ins, p1, p2, data=bytes(body[1:]))
        if len(body) == 2 + lc:  # case 4
            return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + lc]), le=body[-1] or 256)
        raise ApduError(SW.WRONG_LENGTH)

    def to_bytes(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out


# --- command builders (what public readers send) ------------------------------------------------


def select_df(aid: bytes) -> bytes:
    return CommandAPDU(0x00, 0xA4, 0x04, 0x0C, aid).to_bytes()


def select_ef(fid: int) -> bytes:
    return CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")).to_bytes()


def read_binary(offset: int, le: int) -> bytes:
    """READ BINARY at `offset` (0..0x7FFF); le 1..256 (256 is sent as 00)."""
    if not 0 <= offset <= 0x7FFF or not 1 <= le <= 256:
        raise ValueError(f"offset {offset} / le {le} out of range")
    return CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, le=le).to_bytes()


def verify(pin: str | bytes | None) -> bytes:
    """VERIFY against the current PIN EF; None sends the retry query (no data)."""
    if pin is None:
        return bytes([0x00, 0x20, 0x00, 0x80])
    data = pin.encode("ascii") if isinstance(pin, str) else pin
    return CommandAPDU(0x00, 0x20, 0x00, 0x80, data).to_bytes()


def change_reference_data(new_pin: str) -> bytes:
    return CommandAPDU(0x00, 0x24, 0x01, 0x80, new_pin.encode("ascii")).to_bytes()


def compute_signature(digest_info: bytes) -> bytes:
    return CommandAPDU(0x80, 0x2A, 0x00, 0x80, digest_info, le=256).to_bytes()
