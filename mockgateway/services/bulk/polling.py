"""How a client polled for a bulk result, derived from the journal: did it wait sensibly, hammer
the terminal, or give up before the result was ready?

Every upload and download request is journalled by the engine; bulk services tag their entries
with `extra["reception_number"]` and `extra["bulk"]` ("upload" / "download"). Times are real
seconds (the journal's `real_time`, the job's upload and completion times), because polling
behaviour is about the client's wall clock, not the gateway's virtual one. Evaluate a pattern
once the client has finished its workflow: until then "gave up" cannot be told from "still busy".
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass

from mockgateway.domain.codes import SegmentOfResult
from mockgateway.engine import Gateway
from mockgateway.services.bulk import service as bulk


@dataclass(frozen=True, slots=True)
class PollingPattern:
    reception_number: str
    uploaded_at: float | None  # epoch seconds of the accepted upload (None: unknown number)
    completed_at: float | None  # when the last record was processed (None: not yet)
    polls: int  # download requests naming this 受付番号, whatever the answer
    processing_answers: int  # of which answered 処理中 (SegmentOfResult 2)
    first_poll_delay: float | None  # seconds from upload to the first poll
    min_interval: float | None  # between consecutive polls
    median_interval: float | None
    max_interval: float | None
    downloaded: bool  # some poll received the result (SegmentOfResult 1)
    polls_after_download: int  # repeated downloads after the first success
    last_poll_at: float | None

    @property
    def gave_up(self) -> bool:
        """The client never fetched the result."""
        return not self.downloaded

    @property
    def gave_up_early(self) -> bool:
        """It stopped polling while the job was still being processed."""
        if self.downloaded:
            return False
        return self.last_poll_at is None or self.completed_at is None or self.last_poll_at < self.completed_at

    def hammers(self, min_interval: float) -> bool:
        """Some two consecutive polls came closer together than `min_interval` seconds."""
        return self.min_interval is not None and self.min_interval < min_interval


def polling_pattern(gateway: Gateway, reception_number: str) -> PollingPattern:
    entries = [e for e in gateway.journal.entries() if e.extra.get("reception_number") == reception_number]
    feature = bulk.feature(gateway)
    job = feature.jobs.get(reception_number) if feature is not None else None
    uploads = [e.real_time for e in entries if e.extra.get("bulk") == "upload"]
    uploaded_at = job.accepted_real if job is not None else (uploads[0] if uploads else None)
    polls = [e for e in entries if e.extra.get("bulk") == "download"]
    times = [e.real_time for e in polls]
    intervals = [later - earlier for earlier, later in itertools.pairwise(times)]
    successes = [i for i, e in enumerate(polls) if e.segment == SegmentOfResult.NORMAL.value]
    return PollingPattern(
        reception_number=reception_number,
        uploaded_at=uploaded_at,
        completed_at=job.finished_real if job is not None else None,
        polls=len(polls),
        processing_answers=sum(1 for e in polls if e.segment == SegmentOfResult.PROCESSING.value),
        first_poll_delay=times[0] - uploaded_at if times and uploaded_at is not None else None,
        min_interval=min(intervals) if intervals else None,
        median_interval=statistics.median(intervals) if intervals else None,
        max_interval=max(intervals) if intervals else None,
        downloaded=bool(successes),
        polls_after_download=len(polls) - successes[0] - 1 if successes else 0,
        last_poll_at=times[-1] if times else None,
    )
