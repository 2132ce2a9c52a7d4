"""A person's My Number card as described in fixtures: the `card:` key (docs/fixtures.md).

Only data and validation here (no keys, no certificates): `CardRegistry` issues the card from it.
The national-scale population writes `{registered, cert_expires, revoked}` with real booleans; YAML
fixtures read with the BaseLoader give strings ("true", "3"): both are accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mockgateway.card.profile import PROFILES, PinId, validate_pin

DEFAULT_PIN = "1234"
DEFAULT_SIGN_PASSWORD = "ABC123"
AUTH_PIN_TRIES = 3

CARD_KEYS: frozenset[str] = frozenset(
    {
        "registered",  # 保険証利用登録
        "cert_expires",  # 利用者証明用電子証明書: the last valid day
        "cert_issued",  # its first valid day
        "revoked",  # listed on the CRL
        "pin",  # 利用者証明用暗証番号 (4 digits)
        "pin_tries",  # remaining tries of that PIN (0 = blocked)
        "sign_password",  # 署名用電子証明書のパスワード (6–16 A–Z / 0–9)
        "kenhojo_pin",  # 券面事項入力補助用暗証番号 (4 digits)
        "security_code",  # セキュリティコード printed on the card (part of 照合番号B)
        "face_auth_card",  # 顔認証マイナンバーカード: no PIN set; 顔認証 or 目視 only
        "profile",  # card profile (docs/card.md): blocked-PIN status word, or a non-My-Number card
        "comment",
    }
)

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


class CardSpecError(ValueError):
    """`field` is the key inside `card` that broke the rule."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CardSpec:
    registered: bool = True
    cert_expires: dt.date | None = None  # None: the 5th birthday after cert_issued
    cert_issued: dt.date | None = None  # None: one year before the card is first read
    revoked: bool = False
    pin: str = DEFAULT_PIN
    pin_tries: int = AUTH_PIN_TRIES
    sign_password: str = DEFAULT_SIGN_PASSWORD
    kenhojo_pin: str = DEFAULT_PIN
    security_code: str = "0000"
    face_auth_card: bool = False
    profile: str = "mynumber"

    @property
    def is_mynumber(self) -> bool:
        return PROFILES[self.profile].is_mynumber


DateResolver = Callable[[object, dt.date], dt.date]


def _iso_date(raw: object, today: dt.date) -> dt.date:
    del today
    if isinstance(raw, dt.date):
        return raw
    text = str(raw)
    if not re.fullmatch(r"[0-9]{8}", text):
        raise ValueError(f"日付は YYYYMMDD です: {raw!r}")
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def _flag(doc: Mapping[str, Any], name: str, default: bool) -> bool:
    value = doc.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CardSpecError(name, f"true か false です: {value!r}")


def _text(doc: Mapping[str, Any], name: str, default: str) -> str:
    value = doc.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, Mapping | list | bool):
        raise CardSpecError(name, f"文字列が必要です: {value!r}")
    return str(value)


def parse_card_spec(
    doc: object,
    *,
    birthdate: dt.date | None = None,
    today: dt.date | None = None,
    resolve_date: DateResolver = _iso_date,
) -> CardSpec:
    """Validate the `card:` mapping. `resolve_date` reads YYYYMMDD and relative dates (the fixture
    loader passes its own); `birthdate` bounds the issue date."""
    if doc is None:
        return CardSpec()
    if not isinstance(doc, Mapping):
        raise CardSpecError("-", f"マッピングが必要です: {type(doc).__name__}")
    unknown = sorted(set(doc) - CARD_KEYS)
    if unknown:
        raise CardSpecError(unknown[0], f"未知の項目です (誤記?): 使える項目 {', '.join(sorted(CARD_KEYS))}")
    day = today or dt.date.today()

    def date(name: str) -> dt.date | None:
        value = doc.get(name)
        if value is None or value == "":
            return None
        try:
            return resolve_date(value, day)
        except ValueError as exc:
            raise CardSpecError(name, str(exc)) from None

    issued, expires = date("cert_issued"), date("cert_expires")
    if issued is not None and expires is not None and expires < issued:
        raise CardSpecError("cert_expires", f"有効期限 {expires:%Y%m%d} が発行日 {issued:%Y%m%d} より前です")
    if issued is not None and birthdate is not None and issued < birthdate:
        raise CardSpecError("cert_issued", f"発行日 {issued:%Y%m%d} が生年月日より前です")
    pins = {
        "pin": (PinId.AUTH, _text(doc, "pin", DEFAULT_PIN)),
        "sign_password": (PinId.SIGN, _text(doc, "sign_password", DEFAULT_SIGN_PASSWORD)),
        "kenhojo_pin": (PinId.KENHOJO, _text(doc, "kenhojo_pin", DEFAULT_PIN)),
    }
    for name, (pin_id, value) in pins.items():
        try:
            validate_pin(pin_id, value)
        except ValueError as exc:
            raise CardSpecError(name, str(exc)) from None
    security_code = _text(doc, "security_code", "0000")
    if not re.fullmatch(r"[0-9]{4}", security_code):
        raise CardSpecError("security_code", f"4桁の数字です: {security_code!r}")
    raw_tries = _text(doc, "pin_tries", str(AUTH_PIN_TRIES))
    if not re.fullmatch(r"[0-9]", raw_tries) or int(raw_tries) > AUTH_PIN_TRIES:
        raise CardSpecError("pin_tries", f"残り回数は 0〜{AUTH_PIN_TRIES} です (0 = ロック): {raw_tries!r}")
    profile = _text(doc, "profile", "mynumber")
    if profile not in PROFILES:
        raise CardSpecError("profile", f"{profile!r} は定義されていません (有効: {', '.join(PROFILES)})")
    return CardSpec(
        registered=_flag(doc, "registered", True),
        cert_expires=expires,
        cert_issued=issued,
        revoked=_flag(doc, "revoked", False),
        pin=pins["pin"][1],
        pin_tries=int(raw_tries),
        sign_password=pins["sign_password"][1],
        kenhojo_pin=pins["kenhojo_pin"][1],
        security_code=security_code,
        face_auth_card=_flag(doc, "face_auth_card", False),
        profile=profile,
    )
