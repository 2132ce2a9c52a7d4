"""保険証利用登録 and its 解除 (the 002_ seed: 資格確認書の切れ目のない交付 B; oqs-interface.md §6).

- A My Number card is usable as マイナ保険証 once registered for 保険証利用. Unregistered, the
  face-auth reader refuses it (our code M04) — or, with the patient's agreement on the reader's
  screen, registers it there and goes on (「利用登録は窓口（カードリーダー）でできます」).
- 解除: the insurer accepts the application; 「申請から一定期間経過後（中間サーバーにおける申請受付の翌月末
  を想定）にオンライン資格確認等システムにおいて利用登録を解除」. We take the 翌月末 as the last day the
  registration still holds: from the day after it, the card is 未登録 (inferred: the seed says "翌月末"
  without a time of day). Registering again at the reader after that starts a new registration.

Pure: the state is a value; the service keeps it durable.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace


def cancellation_effective(applied: dt.date) -> dt.date:
    """申請受付の翌月末: the last day of the month after the application was accepted."""
    year, month = (applied.year + 1, 1) if applied.month == 12 else (applied.year, applied.month + 1)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class Registration:
    """One card's 保険証利用登録. `registered_on` None with `initially` True: registered before the
    gateway's history (the fixture's `registered: true`)."""

    initially: bool
    registered_on: dt.date | None = None  # registered at a reader on this day
    cancel_applied: dt.date | None = None  # 解除 application accepted by the insurer on this day

    @property
    def cancelled_after(self) -> dt.date | None:
        """The last day the registration holds when a 解除 is pending or done."""
        return cancellation_effective(self.cancel_applied) if self.cancel_applied is not None else None

    def registered(self, on: dt.date) -> bool:
        end = self.cancelled_after
        if end is not None and on > end:  # 解除 done: only a registration made after it counts
            return self.registered_on is not None and end < self.registered_on <= on
        return self.initially or (self.registered_on is not None and self.registered_on <= on)

    def register(self, on: dt.date) -> Registration:
        """Registered at the reader on `on` (after a 解除, this starts a new registration)."""
        return replace(self, registered_on=on)

    def cancel(self, applied: dt.date) -> Registration:
        """The insurer accepted a 解除 application on `applied`: the card is 未登録 after 翌月末."""
        return replace(self, cancel_applied=applied)
