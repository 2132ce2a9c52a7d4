"""The 資格有効性 rule as of `QualificationConfirmationDate` (OQSCD006).

Given every (person, qualification) whose 被保険者証番号 equals the one searched for, decide
1 有効 / 2 無効 / 3 無効（新しい資格あり）/ 4 該当資格なし / 5 複数該当, and say why when nothing
matched (a "near miss": which key differed), so a vendor sees what their software sent wrong.

Inferred rules (the official text is not public; see docs/eligibility.md):
- 資格喪失年月日 is the first day not covered: on that day the qualification is already 無効.
- A qualification whose 資格取得年月日 is after the confirmation date does not exist yet on that
  date: 4 該当資格なし, with the reason in the journal.
- 3 applies when the queried qualification is lost and the same person holds another
  qualification in force on the date; the result still describes the queried (old) one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mockgateway.domain.codes import Validity
from mockgateway.domain.model import CardKey, Person, Qualification


@dataclass(frozen=True, slots=True)
class SearchKey:
    card: CardKey  # branch "" = not given: any branch matches
    birthdate: dt.date


@dataclass(frozen=True, slots=True)
class Match:
    person: Person
    qualification: Qualification


@dataclass(frozen=True, slots=True)
class Outcome:
    validity: Validity
    matches: tuple[Match, ...]  # what the result describes (empty for 4)
    reason: str  # why: always filled, for the journal

    @property
    def match(self) -> Match | None:
        return self.matches[0] if len(self.matches) == 1 else None


def _narrow(
    candidates: list[Match], keep: Iterable[bool], what: str, sent: str, seen: Iterable[str]
) -> tuple[list[Match], str | None]:
    kept = [m for m, ok in zip(candidates, keep, strict=True) if ok]
    if kept:
        return kept, None
    values = sorted(set(seen))
    return kept, f"{what}が一致しません: 送信 {sent!r}、番号が一致した資格では {', '.join(map(repr, values))}"


def confirm(candidates: Sequence[Match], key: SearchKey, on: dt.date) -> Outcome:
    """`candidates`: every (person, qualification) with the searched 被保険者証番号."""
    card = key.card
    if len(candidates) == 1:  # the common case, decided as the general path below would decide it
        only = candidates[0]
        held = only.qualification.key
        if (
            held.insurer_number == card.insurer_number
            and held.symbol == card.symbol
            and (not card.branch or held.branch == card.branch)
            and only.person.birthdate == key.birthdate
        ):
            return _judge([only], on)
    found = list(candidates)
    if not found:
        return Outcome(Validity.NOT_FOUND, (), f"被保険者証番号 {card.number!r} の資格は登録されていません")
    found, miss = _narrow(
        found,
        [m.qualification.key.insurer_number == card.insurer_number for m in found],
        "保険者番号",
        card.insurer_number,
        [m.qualification.key.insurer_number for m in found],
    )
    if miss:
        return Outcome(Validity.NOT_FOUND, (), miss)
    found, miss = _narrow(
        found,
        [m.qualification.key.symbol == card.symbol for m in found],
        "被保険者証記号",
        card.symbol,
        [m.qualification.key.symbol for m in found],
    )
    if miss:
        return Outcome(Validity.NOT_FOUND, (), miss)
    if card.branch:
        found, miss = _narrow(
            found,
            [m.qualification.key.branch == card.branch for m in found],
            "被保険者証枝番",
            card.branch,
            [m.qualification.key.branch for m in found],
        )
        if miss:
            return Outcome(Validity.NOT_FOUND, (), miss)
    by_birth = [m for m in found if m.person.birthdate == key.birthdate]
    if not by_birth:
        return Outcome(
            Validity.NOT_FOUND,
            (),
            f"生年月日が一致しません: 送信 {key.birthdate:%Y%m%d}、"
            f"記号番号が一致した人数 {len({m.person.id for m in found})}",
        )
    people = {m.person.id for m in by_birth}
    if len(people) > 1:
        return Outcome(
            Validity.MULTIPLE,
            tuple(by_birth),
            f"記号番号・生年月日が {len(people)} 人に一致しました: {', '.join(sorted(people))}",
        )
    return _judge(by_birth, on)


def _judge(matches: list[Match], on: dt.date) -> Outcome:
    """One person; possibly several qualifications under the same card key (re-acquisition)."""
    in_force = [m for m in matches if m.qualification.in_force(on)]
    if in_force:
        chosen = max(in_force, key=lambda m: m.qualification.qualification_date)
        return Outcome(Validity.VALID, (chosen,), "有効")
    started = [m for m in matches if m.qualification.qualification_date <= on]
    if not started:
        first = min(matches, key=lambda m: m.qualification.qualification_date).qualification
        return Outcome(
            Validity.NOT_FOUND,
            (),
            f"資格取得年月日 {first.qualification_date:%Y%m%d} が資格確認日 {on:%Y%m%d} より後です",
        )
    lost = max(started, key=lambda m: m.qualification.qualification_date)
    person = lost.person
    newer = [q for q in person.qualifications if q.in_force(on) and q.key != lost.qualification.key]
    loss = lost.qualification.disqualification_date
    if newer:
        return Outcome(
            Validity.INVALID_NEWER_EXISTS,
            (lost,),
            f"資格喪失 {loss:%Y%m%d}; 同じ人に有効な資格があります ({newer[0].insurer.number.value})",
        )
    return Outcome(Validity.INVALID, (lost,), f"資格喪失 {loss:%Y%m%d}")


def current_qualifications(person: Person, on: dt.date) -> Outcome:
    """For a card-holder identified by certificate (マイナ保険証): every qualification in force."""
    in_force = [Match(person, q) for q in person.in_force(on)]
    if len(in_force) == 1:
        return Outcome(Validity.VALID, tuple(in_force), "有効")
    if len(in_force) > 1:
        return Outcome(Validity.MULTIPLE, tuple(in_force), f"有効な資格が {len(in_force)} 件あります")
    started = [q for q in person.qualifications if q.qualification_date <= on]
    if not started:
        return Outcome(Validity.NOT_FOUND, (), "資格確認日に有効な資格がありません")
    latest = max(started, key=lambda q: q.qualification_date)
    return Outcome(Validity.INVALID, (Match(person, latest),), f"資格喪失 {latest.disqualification_date:%Y%m%d}")
