"""Whole answers remembered per exact request: the hot path's last step (docs/design.md).

A normal 資格確認 answer (OQSsiquc01 by file or HTTP, the Web API search) is a pure function of
- the request: its exact bytes, its format, whether it came as a file (files are indented) and,
  on the Web API, the 医療機関 the idToken names;
- the gateway's state: the people index (a fixture load or reload swaps the object), everything
  the store holds (its `changes` count moves on every committed write and on `touch()`, which the
  in-memory registries call after an update) and the settings that shape answers;
- the clock, but only as the processing time (and the consent times the answer shows, the same
  instant, formatted the same way).

So an entry is keyed by the first, stamped with the second, and keeps its body cut at the
timestamp it was rendered with; a hit joins the pieces with the current timestamp. An entry is
only made when the request itself does not contain that timestamp (an echo of it would otherwise
be rewritten too). Faults are decided per request before an entry is used, and every request is
journaled as before. `MOCKGATEWAY_MEMO_VERIFY=1` (the test suite sets it) recomputes every hit
and turns a difference into an internal error, so a missed invalidation fails the tests.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

DEFAULT_ENTRIES = 16_384  # ~4 KB each (request + answer): ~64 MB at most


def verifying() -> bool:
    return os.environ.get("MOCKGATEWAY_MEMO_VERIFY", "") not in ("", "0")


@dataclass(frozen=True, slots=True)
class Stamp:
    """The state an answer was built from; equal stamps mean the same answer."""

    index: object  # compared by identity: a reload builds a new index
    changes: int
    settings: tuple[Any, ...]

    def same(self, other: Stamp) -> bool:
        return self.index is other.index and self.changes == other.changes and self.settings == other.settings


@dataclass(frozen=True, slots=True)
class Remembered:
    stamp: Stamp
    parts: tuple[bytes, ...]  # the body split at the timestamp it was rendered with
    media_type: str
    extension: str
    mic: str | None  # the 医療機関コード read from the request (faults and the journal use it)
    segment: str
    validity: str | None
    reason: str | None

    def body(self, timestamp: bytes) -> bytes:
        return timestamp.join(self.parts)


class AnswerMemo:
    """At most `entries` answers; the oldest made is dropped first (FIFO: a hit costs no reordering)."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, *, verify: bool | None = None) -> None:
        self.entries = entries
        self.verify = verifying() if verify is None else verify
        self._memo: dict[Hashable, Remembered] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, stamp: Stamp) -> Remembered | None:
        found = self._memo.get(key)
        if found is None or not found.stamp.same(stamp):
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, key: Hashable, raw: bytes, body: bytes, timestamp: bytes, **facts: Any) -> bool:
        """Remember `body` for `key`; False (nothing kept) when it cannot be templated safely."""
        if self.entries <= 0 or timestamp in raw or timestamp not in body:
            return False
        memo = self._memo
        if len(memo) >= self.entries and key not in memo:
            with contextlib.suppress(StopIteration, KeyError, RuntimeError):  # another thread got there first
                del memo[next(iter(memo))]
        memo[key] = Remembered(parts=tuple(body.split(timestamp)), **facts)
        return True

    def clear(self) -> None:
        self._memo.clear()

    def __len__(self) -> int:
        return len(self._memo)

    def as_json(self) -> dict[str, Any]:
        return {"entries": len(self._memo), "max_entries": self.entries, "hits": self.hits, "misses": self.misses,
                "verify": self.verify}  # fmt: skip
