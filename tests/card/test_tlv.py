import pytest

from mockgateway.card.tlv import (
    BasicFour,
    TlvError,
    basic_four_ef,
    encode_length,
    my_number_ef,
    parse_all,
    parse_basic_four,
    parse_my_number,
    parse_one,
    tlv,
    token_ef,
)

FOUR = BasicFour(name="試験 太郎", address="東京都千代田区試験町1丁目1番地", birth="19800615", sex="1")


def test_lengths() -> None:
    assert encode_length(5) == b"\x05"
    assert encode_length(200) == b"\x81\xc8"
    assert encode_length(1000) == b"\x82\x03\xe8"
    assert parse_one(tlv(0xDF22, b"x" * 300)) == (0xDF22, b"x" * 300, 305)


def test_my_number_ef() -> None:
    ef = my_number_ef("123456789018")
    assert ef[:3] == b"\xff\x10\x0c"
    assert len(ef) == 17
    assert parse_my_number(ef) == "123456789018"


def test_basic_four_round_trip_and_offsets() -> None:
    ef = basic_four_ef(FOUR)
    assert ef[:3] == b"\xff\x20\x82"
    assert parse_basic_four(ef) == FOUR
    ((tag, value),) = parse_all(ef)
    items = parse_all(value)
    assert items[0][0] == 0xDF21
    offsets = [int.from_bytes(items[0][1][i : i + 2], "big") for i in range(0, 8, 2)]
    for offset, tag in zip(offsets, (0xDF22, 0xDF23, 0xDF24, 0xDF25), strict=True):
        assert ef[offset : offset + 2] == tag.to_bytes(2, "big")


def test_basic_four_as_mnbcard_parses_it() -> None:
    # mnbcard: the segment start is the byte at EF positions 9/11/13/15; then DF xx LL value
    data = list(basic_four_ef(FOUR))

    def attr(segment_start: int) -> str:
        length = data[segment_start + 2]
        return bytes(data[segment_start + 3 : segment_start + 3 + length]).decode("utf-8")

    assert (attr(data[9]), attr(data[11]), attr(data[13]), attr(data[15])) == (
        FOUR.name,
        FOUR.address,
        FOUR.birth,
        FOUR.sex,
    )


def test_token() -> None:
    assert token_ef() == b"JPKIAPICCTOKEN2                 "


@pytest.mark.parametrize("bad", [b"\xdf", b"\xdf\x22", b"\xdf\x22\x05ab", b"\x04\x84\x00\x00\x00\x01x"])
def test_malformed(bad: bytes) -> None:
    with pytest.raises(TlvError):
        parse_one(bad)
