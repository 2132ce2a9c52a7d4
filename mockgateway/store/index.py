"""The in-memory people index the engine answers from (pure: built from documents)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from mockgateway.domain.eligibility import Match
from mockgateway.domain.model import Insurer, Person
from mockgateway.domain.numbers import InsurerNumber
from mockgateway.fixtures import person_from_doc


class PeopleIndex:
    def __init__(self) -> None:
        self.insurers: dict[str, Insurer] = {}
        self.people: dict[str, Person] = {}
        self.by_number: dict[str, list[Match]] = {}

    @classmethod
    def build(
        cls, insurers: Mapping[str, str], documents: Iterable[tuple[str, Mapping[str, Any]]], today: dt.date
    ) -> PeopleIndex:
        index = cls()
        index.insurers = {num: Insurer(InsurerNumber(num), name) for num, name in insurers.items()}
        for _pid, doc in documents:
            index.add(person_from_doc(doc, index.insurers, today))
        return index

    def add(self, person: Person) -> None:
        old = self.people.get(person.id)
        if old is not None:
            for q in old.qualifications:
                self.by_number[q.key.number] = [
                    m for m in self.by_number.get(q.key.number, []) if m.person.id != person.id
                ]
        self.people[person.id] = person
        for q in person.qualifications:
            self.by_number.setdefault(q.key.number, []).append(Match(person, q))

    def candidates(self, number: str) -> list[Match]:
        return self.by_number.get(number, [])

    def __len__(self) -> int:
        return len(self.people)
