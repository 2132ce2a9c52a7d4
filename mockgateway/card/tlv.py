"""BER-TLV helpers and builders/parsers for the My Number card's data EFs.

Layouts follow public readers (jpki/myna, lanesky/mnbcard, AokiApp/jsapdu):

* 券面事項入力補助 AP EF 0001 (個人番号): ``FF 10 0C`` + 12 ASCII digits.
* 券面事項入力補助 AP EF 0002 (基本4情報): ``FF 20 L`` { DF21 offsets, DF22 name, DF23 address,
  DF24 birth date, DF25 sex }.
* 券面事項確認 AP EF 0002 (券面事項): ``FF 20 L`` { DF21 offsets, DF22 birth date, DF23 sex,
  DF24 public key, DF25 name image, DF26 address image, DF27 face image, DF28 signature,
  DF29 expiry, DF2A security-code image }.

DF21 holds big-endian 16-bit offsets of the following elements from the start of the EF, and
the outer length always has the form ``82 HH LL`` (inferred from mnbcard's fixed positions).
Unconfirmed on a real card (see docs/card.md): the outer tag of the 券面事項 EF, the padding
after the TLV, and the text formats (YYYYMMDD here).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

TAG_MY_NUMBER = 0xFF10
TAG_BASIC_FOUR = 0xFF20
TAG_KENKAKU_ENTRIES = 0xFF20
TAG_OFFSETS = 0xDF21
TAG_NAME = 0xDF22
TAG_ADDRESS = 0xDF23
TAG_BIRTH = 0xDF24
TAG_SEX = 0xDF25
# 券面事項確認 AP EF 0002
TAG_KK_BIRTH = 0xDF22
TAG_KK_SEX = 0xDF23
TAG_KK_PUBLIC_KEY = 0xDF24
TAG_KK_NAME_IMAGE = 0xDF25
TAG_KK_ADDRESS_IMAGE = 0xDF26
TAG_KK_FACE_IMAGE = 0xDF27
TAG_KK_SIGNATURE = 0xDF28
TAG_KK_EXPIRY = 0xDF29
TAG_KK_SECURITY_CODE_IMAGE = 0xDF2A

MY_NUMBER_EF_SIZE = 17  # jpki/myna reads 17 bytes; the last 2 are padding here (unconfirmed)
TOKEN_EF_SIZE = 0x20
JPKI_TOKEN = b"JPKIAPICCTOKEN2"


class TlvError(ValueError):
    """Malformed BER-TLV."""


def encode_tag(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n <= 0xFF:
        return bytes([0x81, n])
    if n <= 0xFFFF:
        return bytes([0x82]) + n.to_bytes(2, "big")
    raise TlvError(f"length {n} too large for this card")


def tlv(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value


def parse_one(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, offset after the element) for the element starting at `offset`."""
    try:
        first = data[offset]
        tag = first
        pos = offset + 1
        if first & 0x1F == 0x1F:  # high tag number form: more tag bytes while bit 8 is set
            while True:
                b = data[pos]
                tag = (tag << 8) | b
                pos += 1
                if not b & 0x80:
                    break
        length = data[pos]
        pos += 1
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 3:
                raise TlvError(f"unsupported length form {length:#04x} at {pos - 1}")
            length = int.from_bytes(data[pos : pos + count], "big")
            if len(data[pos : pos + count]) != count:
                raise TlvError("truncated length")
            pos += count
    except IndexError as exc:
        raise TlvError(f"truncated TLV at offset {offset}") from exc
    end = pos + length
    if end > len(data):
        raise TlvError(f"TLV at offset {offset}: length {length} runs past the data ({len(data)} bytes)")
    return tag, bytes(data[pos:end]), end


def parse_all(data: bytes) -> list[tuple[int, bytes]]:
    """All consecutive elements of `data` (which must contain only TLVs)."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag, value, pos = parse_one(data, pos)
        out.append((tag, value))
    return out


def _with_offsets(outer_tag: int, elements: Sequence[tuple[int, bytes]]) -> bytes:
    # The outer length always uses the 3-byte form (82 HH LL) and DF21 holds 16-bit offsets of
    # the following elements counted from the start of the EF: mnbcard's parser reads the name's
    # offset low byte at EF position 9, the address's at 11, and so on, which fits only this.
    encoded = [tlv(tag, value) for tag, value in elements]
    outer_header_len = len(encode_tag(outer_tag)) + 3
    offsets_len = len(tlv(TAG_OFFSETS, b"\x00\x00" * len(encoded)))
    offsets = []
    pos = outer_header_len + offsets_len
    for e in encoded:
        offsets.append(pos)
        pos += len(e)
    if pos > 0xFFFF:
        raise TlvError(f"EF too large: {pos} bytes")
    body = tlv(TAG_OFFSETS, b"".join(struct.pack(">H", o) for o in offsets)) + b"".join(encoded)
    return encode_tag(outer_tag) + b"\x82" + len(body).to_bytes(2, "big") + body


def token_ef() -> bytes:
    """JPKI AP EF 0006: the token, padded with spaces to 0x20 bytes."""
    return JPKI_TOKEN.ljust(TOKEN_EF_SIZE, b" ")


def my_number_ef(individual_number: str) -> bytes:
    body = tlv(TAG_MY_NUMBER, individual_number.encode("ascii"))
    return body.ljust(MY_NUMBER_EF_SIZE, b"\xff")


def parse_my_number(data: bytes) -> str:
    tag, value, _ = parse_one(data)
    if tag != TAG_MY_NUMBER:
        raise TlvError(f"expected tag FF10, got {tag:X}")
    return value.decode("ascii")


@dataclass(frozen=True)
class BasicFour:
    """基本4情報 as stored on the card: birth is YYYYMMDD, sex is the ISO 5218 code."""

    name: str
    address: str
    birth: str
    sex: str


def basic_four_ef(info: BasicFour) -> bytes:
    return _with_offsets(
        TAG_BASIC_FOUR,
        [
            (TAG_NAME, info.name.encode("utf-8")),
            (TAG_ADDRESS, info.address.encode("utf-8")),
            (TAG_BIRTH, info.birth.encode("ascii")),
            (TAG_SEX, info.sex.encode("ascii")),
        ],
    )


def parse_basic_four(data: bytes) -> BasicFour:
    tag, value, _ = parse_one(data)
    if tag != TAG_BASIC_FOUR:
        raise TlvError(f"expected tag FF20, got {tag:X}")
    items = dict(parse_all(value))
    try:
        return BasicFour(
            name=items[TAG_NAME].decode("utf-8"),
            address=items[TAG_ADDRESS].decode("utf-8"),
            birth=items[TAG_BIRTH].decode("ascii"),
            sex=items[TAG_SEX].decode("ascii"),
        )
    except KeyError as exc:
        raise TlvError(f"基本4情報: missing element {exc.args[0]:X}") from exc


@dataclass(frozen=True)
class KenkakuEntries:
    """券面事項 (券面事項確認 AP EF 0002). Images are opaque bytes (placeholders by default)."""

    birth: str
    sex: str
    public_key: bytes
    name_image: bytes
    address_image: bytes
    face_image: bytes
    signature: bytes
    expiry: str
    security_code_image: bytes


def kenkaku_entries_ef(entries: KenkakuEntries) -> bytes:
    return _with_offsets(
        TAG_KENKAKU_ENTRIES,
        [
            (TAG_KK_BIRTH, entries.birth.encode("ascii")),
            (TAG_KK_SEX, entries.sex.encode("ascii")),
            (TAG_KK_PUBLIC_KEY, entries.public_key),
            (TAG_KK_NAME_IMAGE, entries.name_image),
            (TAG_KK_ADDRESS_IMAGE, entries.address_image),
            (TAG_KK_FACE_IMAGE, entries.face_image),
            (TAG_KK_SIGNATURE, entries.signature),
            (TAG_KK_EXPIRY, entries.expiry.encode("ascii")),
            (TAG_KK_SECURITY_CODE_IMAGE, entries.security_code_image),
        ],
    )


def parse_kenkaku_entries(data: bytes) -> KenkakuEntries:
    tag, value, _ = parse_one(data)
    if tag != TAG_KENKAKU_ENTRIES:
        raise TlvError(f"expected tag FF20, got {tag:X}")
    items = dict(parse_all(value))
    try:
        return KenkakuEntries(
            birth=items[TAG_KK_BIRTH].decode("ascii"),
            sex=items[TAG_KK_SEX].decode("ascii"),
            public_key=items[TAG_KK_PUBLIC_KEY],
            name_image=items[TAG_KK_NAME_IMAGE],
            address_image=items[TAG_KK_ADDRESS_IMAGE],
            face_image=items[TAG_KK_FACE_IMAGE],
            signature=items[TAG_KK_SIGNATURE],
            expiry=items[TAG_KK_EXPIRY].decode("ascii"),
            security_code_image=items[TAG_KK_SECURITY_CODE_IMAGE],
        )
    except KeyError as exc:
        raise TlvError(f"券面事項: missing element {exc.args[0]:X}") from exc


def rsa_public_key_tlv(n: int, e: int) -> bytes:
    """Public key as two INTEGER-like TLVs (exponent, then modulus), as AokiApp's parser reads."""
    e_raw = e.to_bytes((e.bit_length() + 7) // 8, "big")
    n_raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return tlv(0x02, e_raw) + tlv(0x02, n_raw)


def placeholder_png(label: str) -> bytes:
    """A valid 1x1 grey PNG with a tEXt chunk naming what it stands for (no real image)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    text = b"Comment\x00" + f"mockgateway synthetic placeholder: {label}".encode("ascii", "replace")
    idat = zlib.compress(b"\x00\x80")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"tEXt", text) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


# JPEG 2000 signature box + a comment; recognisable as JP2 by magic number, not decodable.
PLACEHOLDER_FACE_JP2 = (
    b"\x00\x00\x00\x0cjP  \r\n\x87\n"
    + b"\x00\x00\x00\x14ftypjp2 \x00\x00\x00\x00jp2 "
    + b"mockgateway synthetic face image placeholder"
)
