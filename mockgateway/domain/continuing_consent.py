"""居宅同意取得型: the continuing consent a first visit registers, and what it opens (pure).

Seed 002 (「居宅同意取得型のオンライン資格確認の仕組み」): consent to 薬剤情報等 first, then the 4-digit PIN
or 目視確認, then the card is read. From the second visit the institution re-queries without the
card (再照会) and obtains 薬剤情報等 under the first consent "継続的に…行われている間 (患者による同意取消
がなされない限り)" — for 訪問診療等, オンライン診療等 and 入院 at the bedside; 発熱外来 is handled like the
counter (同意情報登録後24時間). OQSCD016 value 2 (同意有効期限切れ) exists only in the 訪問診療等・
オンライン診療等 interfaces (oqs-interface.md §1.5, §7).

How long a continuing consent lasts is not public: `ConsentTerms.days` (a setting, default
`DEFAULT_DAYS`, docs/home-visit.md). Withdrawal (閲覧同意取り消し, OQS-IF-037/038) ends it at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from mockgateway.domain.clock import JST, parse_date, parse_timestamp
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError

DEFAULT_DAYS = 365  # unconfirmed: how long a 居宅 consent lasts is not public (a setting)


class Channel(StrEnum):
    """Where the first visit happens. The value is the CLI / API word."""

    HOME_VISIT = "home-visit"  # 訪問診療・訪問看護等 (マイナ資格確認アプリ on a mobile device)
    ONLINE = "online"  # オンライン診療等 (マイナ在宅受付Web on the patient's smartphone)
    BEDSIDE = "bedside"  # 入院 at the bedside: handled like 訪問診療等 (seed 002)
    FEVER = "fever"  # 発熱外来: handled like the counter, 24 h (seed 002)

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def family(self) -> Family | None:
        """The 再照会 interfaces that serve this channel; None: no continuing consent (24 h)."""
        return _FAMILY[self]

    @classmethod
    def parse(cls, word: str) -> Channel:
        cleaned = word.strip().lower()
        for channel in cls:
            if cleaned in {channel.value, channel.label, channel.name.lower()}:
                return channel
        aliases = {"訪問診療": cls.HOME_VISIT, "訪問看護": cls.HOME_VISIT, "オンライン診療": cls.ONLINE,
                   "入院": cls.BEDSIDE, "発熱外来": cls.FEVER, "home": cls.HOME_VISIT}  # fmt: skip
        if cleaned in aliases:
            return aliases[cleaned]
        raise ValueError(f"unknown channel {word!r}; use one of {[c.value for c in cls]}")


class Family(StrEnum):
    """The two interface families of 居宅同意取得型 and their MedicalTreatmentFlag ([Y2]: 2 / 3)."""

    HOME_VISIT = "2"  # 訪問診療等
    ONLINE = "3"  # オンライン診療等

    @property
    def label(self) -> str:
        return "訪問診療等" if self is Family.HOME_VISIT else "オンライン診療等"


_LABELS = {
    Channel.HOME_VISIT: "訪問診療等",
    Channel.ONLINE: "オンライン診療等",
    Channel.BEDSIDE: "入院",
    Channel.FEVER: "発熱外来",
}
_FAMILY: dict[Channel, Family | None] = {
    Channel.HOME_VISIT: Family.HOME_VISIT,
    Channel.ONLINE: Family.ONLINE,
    Channel.BEDSIDE: Family.HOME_VISIT,
    Channel.FEVER: None,
}


class Status(StrEnum):
    VALID = "valid"
    LAPSED = "lapsed"  # past `until`: consent flag 2 (同意有効期限切れ)
    WITHDRAWN = "withdrawn"  # 閲覧同意取り消し
    NOT_STARTED = "not-started"  # asked about a time before the consent


@dataclass(frozen=True, slots=True)
class ConsentTerms:
    """How long a continuing consent lasts (a setting: the real length is unconfirmed)."""

    days: int = DEFAULT_DAYS

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"consent_days: a whole number of days ≥ 1, got {self.days}")

    def until(self, given_at: dt.datetime) -> dt.datetime:
        return given_at + dt.timedelta(days=self.days)


@dataclass(frozen=True, slots=True)
class ContinuingConsent:
    """One patient's continuing consent at one institution, for one channel."""

    id: str
    person_id: str
    medical_institution: str
    channel: Channel
    kinds: frozenset[ConsentKind]  # the 閲覧同意 the patient gave on the first visit
    given_at: dt.datetime
    until: dt.datetime
    withdrawn_at: dt.datetime | None = None

    @property
    def family(self) -> Family | None:
        return self.channel.family

    def status(self, now: dt.datetime) -> Status:
        if self.withdrawn_at is not None and self.withdrawn_at <= now:
            return Status.WITHDRAWN
        if now < self.given_at:
            return Status.NOT_STARTED
        if now >= self.until:
            return Status.LAPSED
        return Status.VALID

    def flag(self, kind: ConsentKind, now: dt.datetime) -> ConsentFlag:
        """閲覧同意フラグ (OQSCD016) for `kind` in a 再照会 result: 1 while valid, 2 once lapsed."""
        if kind not in self.kinds:
            return ConsentFlag.NONE
        status = self.status(now)
        if status is Status.VALID:
            return ConsentFlag.GIVEN
        if status is Status.LAPSED:
            return ConsentFlag.EXPIRED
        return ConsentFlag.NONE

    def opens(self, kind: ConsentKind, now: dt.datetime) -> bool:
        return self.flag(kind, now) is ConsentFlag.GIVEN

    def refusal(self, kind: ConsentKind, now: dt.datetime) -> str | None:
        """Why `kind` may not be viewed under this consent, in words a vendor can act on."""
        status = self.status(now)
        label = f"{self.channel.label}の継続同意 ({self.given_at:%Y%m%d%H%M%S})"
        if kind not in self.kinds:
            return f"{label} には {kind.value} の閲覧同意が含まれていません"
        if status is Status.WITHDRAWN:
            assert self.withdrawn_at is not None
            return f"{label} は {self.withdrawn_at:%Y%m%d%H%M%S} に取り消されました"
        if status is Status.LAPSED:
            return f"{label} の有効期限 {self.until:%Y%m%d%H%M%S} を過ぎています (閲覧同意フラグ 2)"
        if status is Status.NOT_STARTED:
            return f"{label} より前の時刻です"
        return None


def pick(consents: list[ContinuingConsent], now: dt.datetime) -> ContinuingConsent | None:
    """The consent that speaks for a patient at an institution: the newest valid one, else the
    newest at all (so a lapsed or withdrawn consent explains itself)."""
    ordered = sorted(consents, key=lambda c: (c.given_at, c.id), reverse=True)
    for consent in ordered:
        if consent.status(now) is Status.VALID:
            return consent
    return ordered[0] if ordered else None


class ConsentSpecError(ValueError):
    """A `continuing_consents:` entry that cannot be read; `field` names the key."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


DEFAULT_KINDS = frozenset({ConsentKind.DRUG, ConsentKind.CHECKUP})  # the terminal's default set (§3.4)
_SPEC_KEYS = {"institution", "channel", "from", "until", "withdrawn", "kinds", "comment"}


def _moment(raw: object, field: str) -> dt.datetime:
    text = str(raw).strip()
    try:
        if len(text) == 8:
            day = parse_date(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=JST)
        return parse_timestamp(text)
    except ValueError as exc:
        raise ConsentSpecError(field, f"YYYYMMDD か YYYYMMDDhhmmss (または today-30d など): {exc}") from None


def consents_from_fixture(
    person_id: str, entries: object, terms: ConsentTerms | None = None
) -> list[ContinuingConsent]:
    """The `continuing_consents:` key of a persona (docs/fixtures.md): a list of
    {institution, channel, from, until?, withdrawn?, kinds?}. Relative dates are already fixed."""
    if not isinstance(entries, list):
        raise ConsentSpecError("continuing_consents", "リストで書きます")
    out: list[ContinuingConsent] = []
    for i, entry in enumerate(entries):
        where = f"continuing_consents[{i}]"
        if not isinstance(entry, Mapping):
            raise ConsentSpecError(where, "マッピング {institution, channel, from, …} で書きます")
        unknown = set(entry) - _SPEC_KEYS
        if unknown:
            raise ConsentSpecError(
                f"{where}/{sorted(unknown)[0]}", f"未知の項目です (使える項目: {sorted(_SPEC_KEYS)})"
            )
        for key in ("institution", "channel", "from"):
            if not entry.get(key):
                raise ConsentSpecError(f"{where}/{key}", "必須項目です")
        try:
            code = MedicalInstitutionCode.parse(str(entry["institution"])).value
        except NumberError as exc:
            raise ConsentSpecError(f"{where}/institution", exc.detail) from None
        try:
            channel = Channel.parse(str(entry["channel"]))
        except ValueError as exc:
            raise ConsentSpecError(f"{where}/channel", str(exc)) from None
        if channel.family is None:
            raise ConsentSpecError(f"{where}/channel", "発熱外来は継続同意になりません (24時間の同意: 窓口と同じ)")
        given = _moment(entry["from"], f"{where}/from")
        until = (
            _moment(entry["until"], f"{where}/until") if entry.get("until") else (terms or ConsentTerms()).until(given)
        )
        if until <= given:
            raise ConsentSpecError(f"{where}/until", "from より後の日時を書きます")
        withdrawn = _moment(entry["withdrawn"], f"{where}/withdrawn") if entry.get("withdrawn") else None
        raw_kinds = entry.get("kinds")
        if raw_kinds is None:
            kinds = DEFAULT_KINDS
        else:
            if not isinstance(raw_kinds, list) or not raw_kinds:
                raise ConsentSpecError(f"{where}/kinds", "同意した情報のリスト [drug, checkup, diagnosis, operation]")
            try:
                kinds = frozenset(ConsentKind.parse(str(k)) for k in raw_kinds)
            except ValueError as exc:
                raise ConsentSpecError(f"{where}/kinds", str(exc)) from None
        out.append(
            ContinuingConsent(f"fx-{person_id}-{i + 1}", person_id, code, channel, kinds, given, until, withdrawn)
        )
    return out
