"""Keeping the cycle collector's pauses short in a gateway that runs for days.

A gateway that has answered for a while holds hundreds of thousands of long-lived objects made
after start: people read from the store and cached, their rendered qualifications, remembered
answers, journal entries. CPython 3.11 walks all of them on every full (generation 2) collection:
measured under wrk with 10,000 people from a 100,000-person store, 330–425 ms each, about once
every few seconds at peak — the whole p99 of the HTTP benchmark.

So the serving processes move what survives into the permanent generation every few seconds
(`gc.freeze()`, which costs nothing: it splices lists), and the collector only ever scans what
was made since. Frozen objects are still freed as soon as nothing refers to them (reference
counting); what freezing withholds from collection is garbage *cycles* among them, so once in a
long while (`full_every`, default an hour) everything is unfrozen and collected in one full pass
— one pause of that length per hour instead of one every few seconds — and frozen again.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

FREEZE_EVERY = 5.0  # seconds
FULL_EVERY = 3600.0  # seconds; 0: never unfreeze (cycles made while serving are never collected)


class GcPauses:
    """Call `tick()` now and then (the serving loop does, every `freeze_every` seconds)."""

    def __init__(
        self,
        *,
        freeze_every: float = FREEZE_EVERY,
        full_every: float = FULL_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.freeze_every = freeze_every
        self.full_every = full_every
        self.clock = clock
        self.last_full = clock()
        self.freezes = 0
        self.full_passes = 0

    def tick(self) -> None:
        if self.full_every > 0 and self.clock() - self.last_full >= self.full_every:
            self.full()
        gc.freeze()
        self.freezes += 1

    def full(self) -> int:
        """Unfreeze and collect everything (one long pause), then freeze what is left."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        gc.freeze()
        self.last_full = self.clock()
        self.full_passes += 1
        log.info("full collection: %d objects freed in %.0f ms", collected, (time.perf_counter() - started) * 1000)
        return collected

    async def run(self) -> None:
        """On the serving loop until cancelled."""
        while True:
            await asyncio.sleep(self.freeze_every)
            self.tick()
