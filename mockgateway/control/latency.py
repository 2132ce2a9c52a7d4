"""Realistic latency: answers delayed by a log-normal draw, so a tester sees real concurrency.

Off by default (functional tests want answers at once). `mockgateway serve --latency realistic`
applies the presets below per transport; `--latency 300:1500` gives one median:p99 (ms) to all.
The delay is added to the `delay` of the engine's Response, which every transport already honours
(the HTTP listeners sleep without blocking other requests; the folder transport waits before
writing the result), so it composes with latency faults.

The presets are assumptions, not measurements: no response-time distribution of the real
オンライン資格確認等システム is published. The shapes follow what is described: the 連携アプリ
picks a request file up "within a few seconds" ([SANO] road13, oqs-interface.md §1.1), so the
folder is slow and wide; the Web API is one HTTPS round trip to the national system.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field

Z99 = 2.3263478740408408  # the 99th percentile of the standard normal


@dataclass(frozen=True, slots=True)
class LogNormal:
    median_ms: float
    p99_ms: float
    floor_ms: float = 0.0
    cap_ms: float = 30_000.0

    def __post_init__(self) -> None:
        if not 0 < self.median_ms <= self.p99_ms:
            raise ValueError(f"latency: 0 < median ≤ p99 is required (median {self.median_ms}, p99 {self.p99_ms})")

    @property
    def sigma(self) -> float:
        """σ of ln(latency): p99 = median × e^(σ z₉₉)."""
        return math.log(self.p99_ms / self.median_ms) / Z99

    def sample_ms(self, rng: random.Random) -> float:
        value = self.median_ms * math.exp(self.sigma * rng.normalvariate(0.0, 1.0))
        return min(self.cap_ms, max(self.floor_ms, value))


PRESETS: dict[str, LogNormal] = {
    # 資格確認端末 folder exchange: the 連携アプリ polls, then the national system answers
    "folder": LogNormal(median_ms=1_500, p99_ms=5_000, floor_ms=300),
    # Web API and our convenience route: one HTTPS round trip to the national system
    "http": LogNormal(median_ms=250, p99_ms=1_200, floor_ms=40),
    # a card-reader confirmation writes its face file after the reader's own steps
    "face": LogNormal(median_ms=800, p99_ms=3_000, floor_ms=200),
}
TRANSPORT_PRESET = {"folder": "folder", "http": "http", "webapi": "http", "inprocess": "http", "face": "face"}


@dataclass
class LatencyModel:
    """Per-transport distributions; transports not listed get `default` (None: no delay)."""

    by_transport: dict[str, LogNormal] = field(default_factory=dict)
    default: LogNormal | None = None
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def sample(self, transport: str) -> float:
        """Seconds to wait before answering on `transport`."""
        dist = self.by_transport.get(transport, self.default)
        if dist is None:
            return 0.0
        with self._lock:
            return dist.sample_ms(self._rng) / 1000

    def describe(self) -> str:
        parts = [f"{t} median {d.median_ms:g} ms p99 {d.p99_ms:g} ms" for t, d in sorted(self.by_transport.items())]
        if self.default is not None:
            parts.append(f"others median {self.default.median_ms:g} ms p99 {self.default.p99_ms:g} ms")
        return "; ".join(parts) or "off"


def parse_latency(spec: str | None, seed: int | None = None) -> LatencyModel | None:
    """`off` (or empty) → None; `realistic` → the presets per transport; `MEDIAN:P99` (ms) → that
    distribution for every transport."""
    text = (spec or "off").strip().lower()
    if text in ("off", "none", "0", ""):
        return None
    if text == "realistic":
        return LatencyModel({t: PRESETS[p] for t, p in TRANSPORT_PRESET.items()}, seed=seed)
    median, sep, p99 = text.partition(":")
    try:
        dist = LogNormal(float(median), float(p99) if sep else float(median) * 4)
    except ValueError as exc:
        raise ValueError(f"--latency: off, realistic or MEDIAN_MS:P99_MS (e.g. 300:1500): {spec!r} ({exc})") from None
    return LatencyModel(default=dist, seed=seed)
