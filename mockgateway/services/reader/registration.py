"""保険証利用登録 at the reader and its 解除, kept in the store (docs/card.md).

The fixture's `card: {registered, cancel_applied}` is where each card starts; what happens later —
a registration on the reader's screen (`Placement.register`), a 解除 accepted by the insurer
(`POST /admin/cards/cancel-registration`) — is written here, durably (SQLite), and read back by
`domain.registration.Registration` on the gateway clock's date. A fixture reload starts the cards
afresh, as the card registry does.
"""

from __future__ import annotations

import datetime as dt

from mockgateway.card.registry import CardRegistry
from mockgateway.card.spec import CardSpec
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.registration import Registration
from mockgateway.engine import Gateway
from mockgateway.store.sqlite import SqliteRepository

SCHEMA = """
CREATE TABLE IF NOT EXISTS card_registrations (
    person_id TEXT PRIMARY KEY,
    registered_on TEXT,
    cancel_applied TEXT
);
"""


def _day(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None


class RegistrationBook:
    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(SCHEMA)

    def state(self, person_id: str, spec: CardSpec) -> Registration:
        row = (
            self.store.connection()
            .execute("SELECT registered_on, cancel_applied FROM card_registrations WHERE person_id = ?", (person_id,))
            .fetchone()
        )
        base = Registration(initially=spec.registered, cancel_applied=spec.cancel_applied)
        if row is None:
            return base
        return Registration(
            initially=spec.registered,
            registered_on=_day(row[0]),
            cancel_applied=_day(row[1]) or spec.cancel_applied,
        )

    def _save(self, person_id: str, state: Registration) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO card_registrations (person_id, registered_on, cancel_applied) VALUES (?, ?, ?) "
                "ON CONFLICT (person_id) DO UPDATE SET registered_on = excluded.registered_on, "
                "cancel_applied = excluded.cancel_applied",
                (
                    person_id,
                    state.registered_on.isoformat() if state.registered_on else None,
                    state.cancel_applied.isoformat() if state.cancel_applied else None,
                ),
            )

    def register(self, person_id: str, spec: CardSpec, on: dt.date) -> Registration:
        state = self.state(person_id, spec).register(on)
        self._save(person_id, state)
        return state

    def cancel(self, person_id: str, spec: CardSpec, applied: dt.date) -> Registration:
        state = self.state(person_id, spec).cancel(applied)
        self._save(person_id, state)
        return state

    def clear(self) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM card_registrations")


def describe(state: Registration, on: dt.date) -> dict[str, str | bool | None]:
    """For the admin API and the journal."""
    until = state.cancelled_after
    return {
        "registered": state.registered(on),
        "registered_on": f"{state.registered_on:%Y%m%d}" if state.registered_on else None,
        "cancel_applied": f"{state.cancel_applied:%Y%m%d}" if state.cancel_applied else None,
        "registered_until": f"{until:%Y%m%d}" if until else None,
    }


def standing_consents(gateway: Gateway, registry: CardRegistry, person_id: str, mic: str) -> dict[ConsentKind, str]:
    """包括同意 (since the 令和6年夏 release, docs/card.md): kinds the patient pre-set on マイナポータル
    (`card: portal_consents`) or agreed to at the latest visit to this 医療機関 — no screen for them."""
    person = gateway.index.people.get(person_id)
    if person is None:
        return {}
    out = {kind: "portal" for kind in registry.card(person).spec.portal_consents}
    for kind in ConsentKind:
        if kind not in out:
            latest = gateway.consents.latest(person.id, mic, kind)
            if latest is not None and latest.flag is ConsentFlag.GIVEN:
                out[kind] = "previous_visit"
    return out
