"""The bounded request journal: what every client sent and what it got back.

Bounded by entry count and by stored body size, because an unbounded journal runs a mock out of
memory under load (WireMock's lesson). Oldest entries drop first; ids keep increasing, so a
reader can ask for everything after the last id it saw.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from mockgateway.wire.xmlcodec import declared_encoding, is_shift_jis


@dataclass(slots=True)
class JournalEntry:
    id: int
    at: str  # virtual time, YYYYMMDDHHmmss (JST)
    real_time: float  # epoch seconds, for latency and polling-interval analysis
    transport: str  # folder / http / webapi / face / inprocess / admin
    api_id: str
    name: str | None  # file name or HTTP path
    medical_institution: str | None
    request: bytes
    response: bytes = b""
    segment: str | None = None  # SegmentOfResult
    validity: str | None = None
    reason: str | None = None  # near miss / error detail
    fault: str | None = None
    duration_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["request"] = _text(self.request)
        out["response"] = _text(self.response)
        for key in ("name", "reason", "api_id", "medical_institution"):
            if isinstance(out[key], str):
                out[key] = safe_text(out[key])
        return out

    @property
    def size(self) -> int:
        """Roughly what the entry holds in memory: the bodies dominate."""
        return len(self.request) + len(self.response) + 512


def safe_text(text: str) -> str:
    """Any str as printable JSON text: a file name that is not UTF-8 arrives with surrogate escapes
    (os.fsdecode), which no JSON encoder accepts; its raw bytes are shown as \\xNN instead."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            raw = text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raw = text.encode("utf-8", "backslashreplace")
        return raw.decode("utf-8", "backslashreplace")
    return text


def _text(body: bytes) -> str:
    encoding = declared_encoding(body) or "utf-8"
    return body.decode("cp932" if is_shift_jis(encoding) else "utf-8", errors="replace")


MAX_JOURNAL_ENTRIES = 1_000_000  # what the admin API accepts (PUT /admin/journal/size)
MAX_JOURNAL_BYTES = 4 * 1024**3
DEFAULT_JOURNAL_BYTES = 256 * 1024 * 1024  # total bodies kept: 10,000 entries of 64 KB would be 1.3 GB


class Journal:
    def __init__(
        self, max_entries: int = 10_000, max_body_bytes: int = 64 * 1024, max_total_bytes: int = DEFAULT_JOURNAL_BYTES
    ) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=max_entries)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.max_body_bytes = max_body_bytes
        self.max_total_bytes = max_total_bytes
        self.total_bytes = 0
        self.dropped = 0

    @property
    def max_entries(self) -> int:
        return self._entries.maxlen or 0

    def resize(self, max_entries: int, max_total_bytes: int | None = None) -> None:
        with self._lock:
            if max_total_bytes is not None:
                self.max_total_bytes = max_total_bytes
            self._entries = deque(self._entries, maxlen=max_entries)
            self.total_bytes = sum(e.size for e in self._entries)
            self._trim()

    def _trim(self) -> None:
        while self._entries and self.total_bytes > self.max_total_bytes:
            self.total_bytes -= self._entries.popleft().size
            self.dropped += 1

    def clip(self, body: bytes) -> bytes:
        return body if len(body) <= self.max_body_bytes else body[: self.max_body_bytes]

    def record(self, entry: JournalEntry) -> JournalEntry:
        entry.request = self.clip(entry.request)
        entry.response = self.clip(entry.response)
        with self._lock:
            entry.id = next(self._ids)
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
                self.total_bytes -= self._entries[0].size
            self._entries.append(entry)
            self.total_bytes += entry.size
            self._trim()
        return entry

    def entries(
        self,
        *,
        since: int = 0,
        api_id: str | None = None,
        transport: str | None = None,
        medical_institution: str | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        with self._lock:
            snapshot: Iterable[JournalEntry] = list(self._entries)
        out = [
            e
            for e in snapshot
            if e.id > since
            and (api_id is None or e.api_id == api_id)
            and (transport is None or e.transport == transport)
            and (medical_institution is None or e.medical_institution == medical_institution)
        ]
        return out[-limit:] if limit else out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.total_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)
