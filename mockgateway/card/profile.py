"""Card profiles (how a card behaves) and card state (one person's card).

`CardProfile` holds the behaviour switches that public sources do not pin down (blocked-PIN
status word, 照合番号 tries, reads past the end of an EF, whether re-selecting the current AP
clears the security state) plus the ATR. `CardState` is one person's card: personal data,
PIN values, credentials from `pki`, and the remaining tries. Tries live in the state, so they
survive power cycles (like a real card); the security state lives in the model and does not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from dataclasses import dataclass, field
from enum import Enum

from mockgateway.card.authority import CardAuthority, CardCredentials
from mockgateway.card.mynumber import synthetic_individual_number, validate_individual_number
from mockgateway.card.tlv import PLACEHOLDER_FACE_JP2
from mockgateway.domain.certificate import nth_birthday_after

DEFAULT_ATR = bytes.fromhex("3BE000FF8131FE4514")


def _atr_with_tck(body: bytes) -> bytes:
    # TCK makes the XOR of T0..TCK zero; required when T=1 is offered, as here.
    tck = 0
    for b in body[1:]:
        tck ^= b
    return body + bytes([tck])


# A plain T=1 card with historical bytes "MOCKCARD": not a My Number card.
GENERIC_ATR = _atr_with_tck(bytes.fromhex("3B8880 01") + b"MOCKCARD")

ALLOWED_BLOCKED_SW = (0x63C0, 0x6983, 0x6984)


class ReadPastEnd(Enum):
    """What READ BINARY answers when fewer than Le bytes remain (unconfirmed on real cards)."""

    SHORT_9000 = "short"  # the remaining bytes, 9000
    SHORT_6282 = "6282"  # the remaining bytes, 6282 (end of file reached)
    WRONG_LE_6CXX = "6Cxx"  # no data, 6Cxx with xx = bytes available


class PinId(Enum):
    """The card's PIN objects: (AP, EF) pairs."""

    AUTH = "jpki/0018"  # 利用者証明用暗証番号
    SIGN = "jpki/001B"  # 署名用パスワード
    KENHOJO = "kenhojo/0011"  # 券面事項入力補助用暗証番号
    KENHOJO_A = "kenhojo/0014"  # 照合番号A (the individual number)
    KENHOJO_B = "kenhojo/0015"  # 照合番号B
    KENKAKU_B = "kenkaku/0012"  # 照合番号B
    KENKAKU_A = "kenkaku/0013"  # 照合番号A


@dataclass(frozen=True)
class CardProfile:
    """Behaviour of a kind of card. See docs/card.md for which items are unconfirmed."""

    name: str = "mynumber"
    atr: bytes = DEFAULT_ATR
    is_mynumber: bool = True  # False: a generic card without the My Number APs (6A82)
    blocked_sw: int = 0x63C0  # answer to VERIFY / retry query once a PIN is blocked
    verification_number_tries: int = 3  # 照合番号A/B: maximum tries (unconfirmed)
    read_past_end: ReadPastEnd = ReadPastEnd.SHORT_9000
    reselect_same_ap_resets_security: bool = False

    def __post_init__(self) -> None:
        if self.blocked_sw not in ALLOWED_BLOCKED_SW:
            raise ValueError(
                f"blocked_sw: expected one of {', '.join(f'{s:04X}' for s in ALLOWED_BLOCKED_SW)}, "
                f"got {self.blocked_sw:04X}"
            )
        if not 1 <= self.verification_number_tries <= 15:
            raise ValueError(f"verification_number_tries: expected 1..15, got {self.verification_number_tries}")
        if not self.atr or self.atr[0] not in (0x3B, 0x3F):
            raise ValueError(f"atr: expected TS 3B or 3F, got {self.atr.hex(' ').upper()}")

    def max_tries(self, pin: PinId) -> int:
        if pin is PinId.AUTH or pin is PinId.KENHOJO:
            return 3
        if pin is PinId.SIGN:
            return 5
        return self.verification_number_tries


MYNUMBER_PROFILE = CardProfile()
MYNUMBER_BLOCKED_6983 = dataclasses.replace(MYNUMBER_PROFILE, name="mynumber-blocked-6983", blocked_sw=0x6983)
MYNUMBER_BLOCKED_6984 = dataclasses.replace(MYNUMBER_PROFILE, name="mynumber-blocked-6984", blocked_sw=0x6984)
GENERIC_PROFILE = CardProfile(name="generic", atr=GENERIC_ATR, is_mynumber=False)
PROFILES: dict[str, CardProfile] = {
    p.name: p for p in (MYNUMBER_PROFILE, MYNUMBER_BLOCKED_6983, MYNUMBER_BLOCKED_6984, GENERIC_PROFILE)
}

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_SIGN_PASSWORD = re.compile(r"(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{6,16}")


def validate_pin(pin: PinId, value: str) -> None:
    """Raise ValueError when `value` breaks the format rule of `pin` (issuance rules)."""
    if pin is PinId.SIGN and not _SIGN_PASSWORD.fullmatch(value):
        raise ValueError(
            f"sign_password: expected 6-16 upper-case letters and digits with at least one of each, got {value!r}"
        )
    if pin in (PinId.AUTH, PinId.KENHOJO) and not _FOUR_DIGITS.fullmatch(value):
        raise ValueError(f"{pin.name.lower()} PIN: expected 4 digits, got {value!r}")


@dataclass
class CardState:
    """One person's card. Mutable: the model updates `tries` (and PINs on CHANGE REFERENCE DATA).

    `sex` is the ISO 5218 code (1 male, 2 female, 9 not applicable). `tries` maps PIN objects to
    remaining tries; missing entries start at the profile's maximum.
    """

    individual_number: str
    name: str
    address: str
    birthdate: dt.date
    sex: str
    credentials: CardCredentials
    auth_pin: str = "1234"
    sign_password: str = "ABC123"
    kenhojo_pin: str = "1234"
    security_code: str = "0000"  # the 4-digit セキュリティコード printed on the card
    card_expires_on: dt.date | None = None  # default: 10th birthday after the certificates' issue
    face_image: bytes = PLACEHOLDER_FACE_JP2
    profile: CardProfile = MYNUMBER_PROFILE
    tries: dict[PinId, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_individual_number(self.individual_number)
        if self.sex not in {"1", "2", "9"}:
            raise ValueError(f"sex: expected ISO 5218 code 1, 2 or 9, got {self.sex!r}")
        validate_pin(PinId.AUTH, self.auth_pin)
        validate_pin(PinId.SIGN, self.sign_password)
        validate_pin(PinId.KENHOJO, self.kenhojo_pin)
        if not _FOUR_DIGITS.fullmatch(self.security_code):
            raise ValueError(f"security_code: expected 4 digits, got {self.security_code!r}")
        if self.card_expires_on is None:
            issued = self.credentials.not_before.astimezone(dt.timezone(dt.timedelta(hours=9))).date()
            self.card_expires_on = nth_birthday_after(self.birthdate, issued, 10)
        for pin in PinId:
            maximum = self.profile.max_tries(pin)
            remaining = self.tries.setdefault(pin, maximum)
            if not 0 <= remaining <= maximum:
                raise ValueError(f"tries[{pin.name}]: expected 0..{maximum}, got {remaining}")

    @property
    def verification_number_a(self) -> str:
        """照合番号A: the individual number."""
        return self.individual_number

    @property
    def verification_number_b(self) -> str:
        """照合番号B: birth date YYMMDD + card expiry year (4 digits) + security code."""
        assert self.card_expires_on is not None  # set in __post_init__
        return f"{self.birthdate:%y%m%d}{self.card_expires_on.year:04d}{self.security_code}"

    def pin_value(self, pin: PinId) -> str:
        if pin is PinId.AUTH:
            return self.auth_pin
        if pin is PinId.SIGN:
            return self.sign_password
        if pin is PinId.KENHOJO:
            return self.kenhojo_pin
        if pin in (PinId.KENHOJO_A, PinId.KENKAKU_A):
            return self.verification_number_a
        return self.verification_number_b

    def set_pin_value(self, pin: PinId, value: str) -> None:
        validate_pin(pin, value)
        if pin is PinId.AUTH:
            self.auth_pin = value
        elif pin is PinId.SIGN:
            self.sign_password = value
        elif pin is PinId.KENHOJO:
            self.kenhojo_pin = value
        else:
            raise ValueError(f"{pin.name}: 照合番号 cannot be changed")

    def reset_tries(self) -> None:
        """Restore every counter to its maximum (what a municipal office's PIN reset does)."""
        for pin in PinId:
            self.tries[pin] = self.profile.max_tries(pin)


_SYNTHETIC_NAMES = (
    ("試験 太郎", "1"),
    ("試験 花子", "2"),
    ("模擬 一郎", "1"),
    ("模擬 桜", "2"),
    ("検証 優", "9"),
)


def synthetic_card(
    authority: CardAuthority,
    index: int = 0,
    *,
    issued_on: dt.date = dt.date(2024, 4, 1),
    profile: CardProfile = MYNUMBER_PROFILE,
    person_id: str | None = None,
) -> CardState:
    """A deterministic synthetic person's card (same `index` → same person and PINs).

    Keys come from the authority's key cache under `person_id` (default ``synthetic-<index>``).
    """
    rng = random.Random(f"mockgateway-card-{index}")
    name, sex = _SYNTHETIC_NAMES[index % len(_SYNTHETIC_NAMES)]
    birthdate = dt.date(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28))
    address = f"東京都千代田区試験町{1 + index % 9}丁目{1 + rng.randrange(30)}番地"
    pid = person_id if person_id is not None else f"synthetic-{index}"
    credentials = authority.issue_for(pid, name, birthdate, issued_on, address=address, sex=sex)
    return CardState(
        individual_number=synthetic_individual_number(rng),
        name=name,
        address=address,
        birthdate=birthdate,
        sex=sex,
        credentials=credentials,
        auth_pin=f"{rng.randrange(10000):04d}",
        sign_password=f"TEST{rng.randrange(100000):05d}",
        kenhojo_pin=f"{rng.randrange(10000):04d}",
        security_code=f"{rng.randrange(10000):04d}",
        profile=profile,
    )
