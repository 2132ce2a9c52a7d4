"""Settings of the two-step bulk interfaces (一括照会 / 照会番号一括登録), and the processing pace.

Settings live in the store (state key `bulk.settings`), so a change made by the admin API or a
test survives a restart, and a gateway started by the CLI picks up what was written beforehand.
Anything not set there keeps the default below (docs/bulk.md lists them).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATE_KEY = "bulk.settings"

_PACE_PART = re.compile(r"^(?:(?P<delay>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h)|(?P<rate>\d+(?:\.\d+)?)/s)$")


class SettingsError(ValueError):
    """A bulk setting with a wrong name or value; the message says which and what is accepted."""


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast accepted records are processed, measured from the upload (real time).

    `delay`: seconds before the first record is processed; `per_second`: records per second after
    that (None: all at once). Written as text: `instant`, `500ms`, `3s`, `2m`, `1h`, `200/s`, `3s+200/s`.
    The schedule is relative to the upload, so after a restart a job catches up rather than
    starting its wait again.
    """

    delay: float = 0.0
    per_second: float | None = None

    @classmethod
    def parse(cls, text: str | float | int) -> Pace:
        if isinstance(text, int | float):
            return cls(delay=float(text)) if text >= 0 else cls._bad(str(text))
        raw = text.strip().lower().replace(" ", "")
        if raw in {"", "0", "instant", "immediate"}:
            return cls()
        delay, rate = 0.0, None
        for part in raw.split("+"):
            match = _PACE_PART.match(part)
            if match is None:
                return cls._bad(text)
            if match["rate"] is not None:
                if rate is not None or float(match["rate"]) <= 0:
                    return cls._bad(text)
                rate = float(match["rate"])
            else:
                scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[match["unit"]]
                delay += float(match["delay"]) * scale
        return cls(delay=delay, per_second=rate)

    @staticmethod
    def _bad(text: str) -> Pace:
        raise SettingsError(
            f"pace {text!r}: 'instant', a delay ('500ms', '3s', '2m', '1h'), a rate ('200/s') or both ('3s+200/s')"
        )

    def allowed(self, elapsed: float, total: int) -> int:
        """How many of `total` records may be finished `elapsed` seconds after the upload."""
        if elapsed < self.delay:
            return 0
        if self.per_second is None:
            return total
        return min(total, math.floor((elapsed - self.delay) * self.per_second + 1e-9))

    def due(self, done: int) -> float:
        """Seconds after the upload at which record number `done + 1` may be processed."""
        if self.per_second is None:
            return self.delay
        return self.delay + (done + 1) / self.per_second

    def __str__(self) -> str:
        parts = []
        if self.delay:
            parts.append(f"{self.delay:g}s")
        if self.per_second is not None:
            parts.append(f"{self.per_second:g}/s")
        return "+".join(parts) or "instant"


RESULT_FORMATS = ("xml", "zip")


@dataclass(frozen=True, slots=True)
class BulkSettings:
    pace: Pace = field(default_factory=lambda: Pace(delay=3.0, per_second=200.0))
    max_records: int = 10_000  # per file; the real limit is unpublished
    max_file_bytes: int = 16 * 1024 * 1024  # raises the engine's pre-parse limit if larger
    result_format: str = "xml"  # the 02res as .xml, or as .zip holding the XML
    retention_seconds: float = 7 * 86_400  # virtual time from upload; then 受付番号 answers "expired"
    redownload: bool = True  # a finished result may be downloaded again within retention
    chunk: int = 1_000  # records per processing transaction
    # Worker processes judging a job's chunks at once (parallel.py); 1: in the worker thread only.
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)

    def __post_init__(self) -> None:
        if self.max_records < 1:
            raise SettingsError(f"max_records {self.max_records}: 1 or more")
        if self.max_file_bytes < 1:
            raise SettingsError(f"max_file_bytes {self.max_file_bytes}: 1 or more")
        if self.result_format not in RESULT_FORMATS:
            raise SettingsError(f"result_format {self.result_format!r}: one of {', '.join(RESULT_FORMATS)}")
        if self.retention_seconds <= 0:
            raise SettingsError(f"retention_seconds {self.retention_seconds}: more than 0")
        if self.chunk < 1:
            raise SettingsError(f"chunk {self.chunk}: 1 or more")
        if self.processes < 1:
            raise SettingsError(f"processes {self.processes}: 1 or more")

    def with_changes(self, changes: Mapping[str, Any]) -> BulkSettings:
        """Apply `{name: value}` (values as YAML/JSON/CLI give them); unknown names are an error."""
        known = {f.name: f for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise SettingsError(f"unknown bulk setting {name!r}; known: {', '.join(sorted(known))}")
            values[name] = _coerce(name, value)
        return dataclasses.replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["pace"] = str(self.pace)
        return out


def _coerce(name: str, value: Any) -> Any:
    try:
        if name == "pace":
            return value if isinstance(value, Pace) else Pace.parse(value)
        if name in {"max_records", "max_file_bytes", "chunk", "processes"}:
            return int(value)
        if name == "retention_seconds":
            return float(value)
        if name == "redownload":
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                    raise ValueError(value)
                return lowered in {"true", "1", "yes"}
            return bool(value)
        return str(value)
    except SettingsError:
        raise
    except (TypeError, ValueError):
        raise SettingsError(f"bulk setting {name}: cannot use {value!r}") from None
