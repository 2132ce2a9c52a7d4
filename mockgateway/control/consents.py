"""The consent book: every consent captured on a card reader, kept in the store (durable)."""

from __future__ import annotations

import datetime as dt

from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import Consent, ConsentKind
from mockgateway.store.sqlite import SqliteRepository

SCHEMA = """
CREATE TABLE IF NOT EXISTS consents (
    id INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL,
    medical_institution TEXT NOT NULL,
    kind TEXT NOT NULL,
    flag TEXT NOT NULL,
    given_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consents_lookup ON consents (person_id, medical_institution, kind, id);
"""


class ConsentBook:
    def __init__(self, store: SqliteRepository) -> None:
        self.store = store
        store.ensure_schema(SCHEMA)

    def record(self, consent: Consent) -> None:
        with self.store.transaction() as db:
            db.execute(
                "INSERT INTO consents (person_id, medical_institution, kind, flag, given_at) VALUES (?, ?, ?, ?, ?)",
                (
                    consent.person_id,
                    consent.medical_institution,
                    consent.kind.value,
                    consent.flag.value,
                    consent.given_at.isoformat(),
                ),
            )

    def latest(self, person_id: str, medical_institution: str, kind: ConsentKind) -> Consent | None:
        """The most recent consent of that kind by that person at that institution (consent is per 医療機関)."""
        row = (
            self.store.connection()
            .execute(
                "SELECT flag, given_at FROM consents WHERE person_id = ? AND medical_institution = ? AND kind = ?"
                " ORDER BY id DESC LIMIT 1",
                (person_id, medical_institution, kind.value),
            )
            .fetchone()
        )
        if row is None:
            return None
        return Consent(person_id, medical_institution, kind, ConsentFlag(row[0]), dt.datetime.fromisoformat(row[1]))

    def clear(self) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM consents")
