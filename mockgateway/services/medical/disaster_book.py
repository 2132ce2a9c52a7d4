"""災害時医療情報閲覧: declarations (area × period), the area of a 医療機関, and the admin routes.

oqs-interface.md §4: 支払基金/厚労省 open the mode for 医療機関・薬局 in specified municipalities
(where 災害救助法 applies) for a period, typically about a week, extendable, then close it (閉塞).
The mode has no public file interface; everything here is ours (docs/medical.md):

- a declaration: `name`, areas (`"石川県"` = a whole prefecture, `"石川県輪島市"` = one
  municipality), `start`, `end` (YYYYMMDD = from 00:00 / through 23:59:59, or YYYYMMDDHHmmss),
  extendable (`end` moved later) and closable (`closed_at`, effective at once or at a given time);
- the area of a 医療機関: its 都道府県 from the code's first two digits; its municipality only from
  the institution registry (`PUT /admin/disasters/institutions`), since the code's 郡市区番号 has
  no public mapping to municipalities;
- `decide(...)` picks the declaration a request relies on, or says why there is none: none
  declared / outside every area / before the start / after the end or the closing.

Declarations and the registry live in the store (state keys `disaster.declarations`,
`disaster.institutions`), so they survive a restart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockgateway.domain.clock import JST, format_timestamp, parse_date, parse_timestamp
from mockgateway.domain.numbers import MedicalInstitutionCode, NumberError
from mockgateway.services.medical.access import Refusal
from mockgateway.store.sqlite import SqliteRepository

if TYPE_CHECKING:
    from mockgateway.control.admin_routes import AdminRequest
    from mockgateway.engine import Gateway

DECLARATIONS_KEY = "disaster.declarations"
INSTITUTIONS_KEY = "disaster.institutions"

PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip  # index + 1 = 都道府県番号


def squeeze(text: str) -> str:
    """NFKC, without blanks: for comparing names, places and insurer names as typed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def prefecture_name(code: int) -> str:
    return PREFECTURES[code - 1]


@dataclass(frozen=True, slots=True)
class Area:
    prefecture: int  # 01–47
    municipality: str | None = None  # None: the whole prefecture

    @classmethod
    def parse(cls, raw: object) -> Area:
        if isinstance(raw, Mapping):
            pref = cls.parse(raw.get("prefecture", ""))
            city = raw.get("municipality")
            return cls(pref.prefecture, squeeze(str(city)) if city else None)
        text = squeeze(str(raw))
        if text.isdigit() and 1 <= int(text) <= 47:
            return cls(int(text))
        for code, name in enumerate(PREFECTURES, start=1):
            if text.startswith(name):
                rest = text[len(name) :]
                return cls(code, rest or None)
        raise ValueError(
            f"area {raw!r}: a prefecture (石川県, or its number 17), optionally followed by a municipality"
            " (石川県輪島市)"
        )

    def __str__(self) -> str:
        return prefecture_name(self.prefecture) + (self.municipality or "")


@dataclass(frozen=True, slots=True)
class Place:
    medical_institution: str
    prefecture: int
    municipality: str | None  # from the registry; None when not registered

    def __str__(self) -> str:
        city = self.municipality or "(市区町村未登録)"
        return f"{self.medical_institution} ({prefecture_name(self.prefecture)}{city})"


@dataclass(frozen=True, slots=True)
class Declaration:
    id: str
    name: str
    areas: tuple[Area, ...]
    start: dt.datetime
    end: dt.datetime  # exclusive
    closed_at: dt.datetime | None = None
    history: tuple[str, ...] = ()

    @property
    def effective_end(self) -> dt.datetime:
        return min(self.end, self.closed_at) if self.closed_at else self.end

    def covers(self, place: Place) -> bool:
        return any(
            a.prefecture == place.prefecture and (a.municipality is None or a.municipality == place.municipality)
            for a in self.areas
        )

    def open_at(self, now: dt.datetime) -> bool:
        return self.start <= now < self.effective_end

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "areas": [str(a) for a in self.areas],
            "start": format_timestamp(self.start),
            "end": format_timestamp(self.end),
            "closed_at": format_timestamp(self.closed_at) if self.closed_at else None,
            "history": list(self.history),
        }

    @classmethod
    def from_summary(cls, doc: Mapping[str, Any]) -> Declaration:
        return cls(
            id=str(doc["id"]),
            name=str(doc["name"]),
            areas=tuple(Area.parse(a) for a in doc["areas"]),
            start=parse_timestamp(str(doc["start"])),
            end=parse_timestamp(str(doc["end"])),
            closed_at=parse_timestamp(str(doc["closed_at"])) if doc.get("closed_at") else None,
            history=tuple(str(h) for h in doc.get("history", ())),
        )


def parse_moment(raw: object, *, end: bool = False) -> dt.datetime:
    """YYYYMMDD (00:00 of that day; for an end, the day is included) or YYYYMMDDHHmmss (JST)."""
    text = str(raw).strip()
    if len(text) == 8:
        day = parse_date(text)
        moment = dt.datetime(day.year, day.month, day.day, tzinfo=JST)
        return moment + dt.timedelta(days=1) if end else moment
    return parse_timestamp(text)


def decide(
    declarations: Sequence[Declaration], place: Place, now: dt.datetime
) -> tuple[Declaration | None, Refusal | None]:
    """The declaration this 医療機関 may rely on now, or the reason it may not."""
    if not declarations:
        return None, Refusal("disaster.not_declared", "災害時医療情報閲覧の宣言がありません")
    covering = [d for d in declarations if d.covers(place)]
    if not covering:
        listed = "; ".join(f"{d.id}「{d.name}」: {'・'.join(map(str, d.areas))}" for d in declarations)
        return None, Refusal("disaster.outside", f"医療機関 {place} はどの宣言の対象地域にもありません ({listed})")
    active = [d for d in covering if d.open_at(now)]
    if active:
        return max(active, key=lambda d: d.start), None
    future = [d for d in covering if now < d.start]
    if future:
        first = min(future, key=lambda d: d.start)
        return first, Refusal(
            "disaster.not_started", f"{first.id}「{first.name}」は {format_timestamp(first.start)} から有効です"
        )
    last = max(covering, key=lambda d: d.effective_end)
    how = "閉塞されました" if last.closed_at and last.closed_at < last.end else "終了しました"
    return last, Refusal("disaster.ended", f"{last.id}「{last.name}」は {format_timestamp(last.effective_end)} に{how}")


class DisasterBook:
    """Declarations and the institution registry, kept in the store."""

    def __init__(self, store: SqliteRepository) -> None:
        self.store = store

    def declarations(self) -> list[Declaration]:
        saved = self.store.get_state(DECLARATIONS_KEY) or []
        return [Declaration.from_summary(d) for d in saved]

    def _save(self, declarations: Sequence[Declaration]) -> None:
        self.store.set_state(DECLARATIONS_KEY, [d.summary() for d in declarations])

    def declare(
        self, name: str, areas: Sequence[Area], start: dt.datetime, end: dt.datetime, now: dt.datetime
    ) -> Declaration:
        if not name.strip():
            raise ValueError("name: the disaster's name is needed")
        if not areas:
            raise ValueError("areas: at least one prefecture or municipality (prefectures / municipalities / areas)")
        if end <= start:
            raise ValueError(f"end {format_timestamp(end)} must be after start {format_timestamp(start)}")
        existing = self.declarations()
        declaration = Declaration(
            f"D{len(existing) + 1:04d}", name.strip(), tuple(areas), start, end,
            history=(f"{format_timestamp(now)} 宣言",),
        )  # fmt: skip
        self._save([*existing, declaration])
        return declaration

    def _change(self, declaration_id: str, change: Any) -> Declaration:
        declarations = self.declarations()
        for i, d in enumerate(declarations):
            if d.id == declaration_id:
                declarations[i] = change(d)
                self._save(declarations)
                return declarations[i]
        known = ", ".join(d.id for d in declarations) or "none"
        raise LookupError(f"no declaration {declaration_id!r} (declared: {known})")

    def extend(self, declaration_id: str, end: dt.datetime, now: dt.datetime) -> Declaration:
        def change(d: Declaration) -> Declaration:
            if end <= d.end:
                raise ValueError(f"end {format_timestamp(end)}: an extension ends after {format_timestamp(d.end)}")
            note = f"{format_timestamp(now)} 延長 {format_timestamp(d.end)}→{format_timestamp(end)}"
            return dataclasses.replace(d, end=end, closed_at=None, history=(*d.history, note))

        return self._change(declaration_id, change)

    def close(self, declaration_id: str, at: dt.datetime, now: dt.datetime) -> Declaration:
        def change(d: Declaration) -> Declaration:
            note = f"{format_timestamp(now)} 閉塞 ({format_timestamp(at)})"
            return dataclasses.replace(d, closed_at=at, history=(*d.history, note))

        return self._change(declaration_id, change)

    def clear(self) -> None:
        self.store.set_state(DECLARATIONS_KEY, [])

    def institutions(self) -> dict[str, dict[str, str]]:
        saved = self.store.get_state(INSTITUTIONS_KEY)
        return dict(saved) if isinstance(saved, dict) else {}

    def set_institutions(self, registry: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        """`{医療機関コード: {"name": …, "municipality": "輪島市" | "石川県輪島市"}}`, replacing the registry."""
        clean: dict[str, dict[str, str]] = {}
        for raw_code, entry in registry.items():
            try:
                code = MedicalInstitutionCode.parse(str(raw_code))
            except NumberError as exc:
                raise ValueError(f"{raw_code}: {exc.detail}") from None
            if not isinstance(entry, Mapping) or not entry.get("municipality"):
                raise ValueError(f"{raw_code}: {{'name': …, 'municipality': '輪島市'}} is expected")
            city = squeeze(str(entry["municipality"]))
            own = prefecture_name(code.prefecture)
            if city.startswith(own):
                city = city[len(own) :]
            if any(city.startswith(p) for p in PREFECTURES):
                raise ValueError(f"{raw_code}: {entry['municipality']} is not in {own} (the code's 都道府県番号)")
            clean[code.value] = {"name": str(entry.get("name", "")), "municipality": city}
        self.store.set_state(INSTITUTIONS_KEY, clean)
        return clean

    def place(self, mic: MedicalInstitutionCode) -> Place:
        entry = self.institutions().get(mic.value)
        return Place(mic.value, mic.prefecture, entry["municipality"] if entry else None)


def _areas(doc: Mapping[str, Any]) -> list[Area]:
    raw: list[Any] = []
    for key in ("areas", "prefectures", "municipalities"):
        value = doc.get(key) or []
        raw.extend(value if isinstance(value, list) else [value])
    return [Area.parse(a) for a in raw]


def add_routes(gateway: Gateway, book: DisasterBook) -> None:
    def declare(request: AdminRequest) -> tuple[int, Any]:
        doc = request.json_object()
        now = gateway.clock.now()
        start = parse_moment(doc["start"]) if doc.get("start") else now
        if not doc.get("end"):
            raise ValueError("end: YYYYMMDD (through that day) or YYYYMMDDHHmmss")
        declared = book.declare(str(doc.get("name", "")), _areas(doc), start, parse_moment(doc["end"], end=True), now)
        return 201, declared.summary()

    def extend(request: AdminRequest) -> tuple[int, Any]:
        doc = request.json_object()
        return _found(lambda: book.extend(str(doc.get("id")), parse_moment(doc["end"], end=True), gateway.clock.now()))

    def close(request: AdminRequest) -> tuple[int, Any]:
        doc = request.json_object()
        now = gateway.clock.now()
        at = parse_moment(doc["at"]) if doc.get("at") else now
        return _found(lambda: book.close(str(doc.get("id")), at, now))

    def clear(_: AdminRequest) -> tuple[int, Any]:
        book.clear()
        return 200, {"cleared": True}

    def institutions(request: AdminRequest) -> tuple[int, Any]:
        return 200, {"institutions": book.set_institutions(request.json_object())}

    routes = gateway.admin_routes
    routes[("POST", "/admin/disasters")] = declare
    routes[("GET", "/admin/disasters")] = lambda _: (200, {"declarations": [d.summary() for d in book.declarations()]})
    routes[("POST", "/admin/disasters/extend")] = extend
    routes[("POST", "/admin/disasters/close")] = close
    routes[("DELETE", "/admin/disasters")] = clear
    routes[("GET", "/admin/disasters/institutions")] = lambda _: (200, {"institutions": book.institutions()})
    routes[("PUT", "/admin/disasters/institutions")] = institutions


def _found(action: Any) -> tuple[int, Any]:
    try:
        return 200, action().summary()
    except LookupError as exc:
        return 404, {"error": str(exc)}
