"""The continuing-consent book: every 居宅 continuing consent, durable.

Two sources, one view: consents registered by a first visit (the reader's `--channel`, the admin
API, Python) are rows in the store; consents written into a persona's `continuing_consents:` key
(fixtures) are read from the people index on each reload. Withdrawals (閲覧同意取り消し) are rows
too, for either source, so a withdrawn fixture consent stays withdrawn across a restart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable

from mockgateway.domain.consent import ConsentKind
from mockgateway.domain.continuing_consent import (
    Channel,
    ConsentSpecError,
    ConsentTerms,
    ContinuingConsent,
    Family,
    consents_from_fixture,
)
from mockgateway.domain.model import Person
from mockgateway.store.sqlite import SqliteRepository

SCHEMA = """
CREATE TABLE IF NOT EXISTS continuing_consents (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL,
    medical_institution TEXT NOT NULL,
    channel TEXT NOT NULL,
    kinds TEXT NOT NULL,
    given_at TEXT NOT NULL,
    until TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS continuing_consents_mic ON continuing_consents (medical_institution, person_id);
CREATE TABLE IF NOT EXISTS continuing_consent_withdrawals (
    consent TEXT PRIMARY KEY,
    withdrawn_at TEXT NOT NULL
) WITHOUT ROWID;
"""

EXTENSION = "continuing_consents"


class ContinuingConsentBook:
    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(SCHEMA)
        self._fixtures: dict[str, list[ContinuingConsent]] = {}  # medical institution → consents
        self._lock = threading.Lock()

    # -- fixtures ---------------------------------------------------------------------------------

    def load_fixtures(self, people: Iterable[Person], terms: ConsentTerms) -> list[str]:
        """Rebuild the fixture view; returns the problems met (a bad entry is skipped, not fatal:
        fixtures were validated on load, so this only happens after a settings change)."""
        by_mic: dict[str, list[ContinuingConsent]] = {}
        problems: list[str] = []
        for person in people:
            try:
                found = consents_from_fixture(person.id, person.extensions.get(EXTENSION), terms)
            except ConsentSpecError as exc:
                problems.append(f"{person.id}: {exc}")
                continue
            for consent in found:
                by_mic.setdefault(consent.medical_institution, []).append(consent)
        with self._lock:
            self._fixtures = by_mic
        return problems

    # -- writes -------------------------------------------------------------------------------------

    def record(
        self,
        person_id: str,
        mic: str,
        channel: Channel,
        kinds: frozenset[ConsentKind],
        given_at: dt.datetime,
        until: dt.datetime,
    ) -> ContinuingConsent:
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO continuing_consents (person_id, medical_institution, channel, kinds, given_at, until)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (person_id, mic, channel.value, ",".join(sorted(k.value for k in kinds)),
                 given_at.isoformat(), until.isoformat()),
            )  # fmt: skip
            row_id = cur.lastrowid
        return ContinuingConsent(f"hv-{row_id}", person_id, mic, channel, kinds, given_at, until)

    def withdraw(self, consent: ContinuingConsent, at: dt.datetime) -> ContinuingConsent:
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO continuing_consent_withdrawals VALUES (?, ?)", (consent.id, at.isoformat())
            )
        found = self.get(consent.id)
        assert found is not None
        return found

    def clear(self) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM continuing_consents")
            db.execute("DELETE FROM continuing_consent_withdrawals")

    # -- reads --------------------------------------------------------------------------------------

    def at(self, mic: str, person_id: str | None = None) -> list[ContinuingConsent]:
        """Every consent at `mic` (of `person_id`), withdrawals applied, oldest first."""
        with self._lock:
            fixtures = [c for c in self._fixtures.get(mic, []) if person_id is None or c.person_id == person_id]
        sql = "SELECT id, person_id, medical_institution, channel, kinds, given_at, until FROM continuing_consents"
        sql += " WHERE medical_institution = ?" + (" AND person_id = ?" if person_id is not None else "")
        args: tuple[str, ...] = (mic,) if person_id is None else (mic, person_id)
        rows = self.store.connection().execute(sql + " ORDER BY id", args).fetchall()
        stored = [_from_row(row) for row in rows]
        withdrawals = self._withdrawals([c.id for c in (*fixtures, *stored)])
        return [
            _withdrawn(c, withdrawals.get(c.id)) for c in sorted((*fixtures, *stored), key=lambda c: (c.given_at, c.id))
        ]

    def institutions(self) -> set[str]:
        rows = self.store.connection().execute("SELECT DISTINCT medical_institution FROM continuing_consents")
        with self._lock:
            return {str(r[0]) for r in rows} | set(self._fixtures)

    def of_family(self, mic: str, person_id: str, family: Family) -> list[ContinuingConsent]:
        return [c for c in self.at(mic, person_id) if c.family is family]

    def get(self, consent_id: str) -> ContinuingConsent | None:
        if consent_id.startswith("hv-") and consent_id[3:].isdigit():
            row = (
                self.store.connection()
                .execute(
                    "SELECT id, person_id, medical_institution, channel, kinds, given_at, until"
                    " FROM continuing_consents WHERE id = ?",
                    (int(consent_id[3:]),),
                )
                .fetchone()
            )
            found = _from_row(row) if row is not None else None
        else:
            with self._lock:
                found = next((c for cs in self._fixtures.values() for c in cs if c.id == consent_id), None)
        if found is None:
            return None
        return _withdrawn(found, self._withdrawals([found.id]).get(found.id))

    def _withdrawals(self, ids: list[str]) -> dict[str, dt.datetime]:
        if not ids:
            return {}
        out: dict[str, dt.datetime] = {}
        db = self.store.connection()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"SELECT consent, withdrawn_at FROM continuing_consent_withdrawals WHERE consent IN ({marks})", chunk
            ).fetchall()
            out.update({str(c): dt.datetime.fromisoformat(str(at)) for c, at in rows})
        return out


def _from_row(row: tuple[object, ...]) -> ContinuingConsent:
    id_, person, mic, channel, kinds, given, until = row
    return ContinuingConsent(
        id=f"hv-{id_}",
        person_id=str(person),
        medical_institution=str(mic),
        channel=Channel(str(channel)),
        kinds=frozenset(ConsentKind(k) for k in str(kinds).split(",") if k),
        given_at=dt.datetime.fromisoformat(str(given)),
        until=dt.datetime.fromisoformat(str(until)),
    )


def _withdrawn(consent: ContinuingConsent, at: dt.datetime | None) -> ContinuingConsent:
    if at is None:
        return consent
    earliest = at if consent.withdrawn_at is None else min(at, consent.withdrawn_at)
    return dataclasses.replace(consent, withdrawn_at=earliest)
