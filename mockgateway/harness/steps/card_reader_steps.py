"""Then-steps about the face-auth reader itself: its error, how the patient was identified, what the
card signed, the consent screens, the PIN tries, and what the journal recorded of the placement
(card_steps.py has the placement and the face-file steps)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from mockgateway.card.faceauth import AuthMode, ReaderError
from mockgateway.control.journal import JournalEntry
from mockgateway.domain.codes import ConsentFlag
from mockgateway.domain.consent import ConsentKind
from mockgateway.harness.steps.card_steps import MODES, _error_words, result, shown
from mockgateway.harness.steps.world import World
from mockgateway.services.reader import session as face

# -- then: the reader -----------------------------------------------------------------------------


@then(parsers.parse('カードリーダーのエラーは "{ident}" である'))
def reader_error_is(world: World, ident: str) -> None:
    r = result(world)
    assert r.error is not None, f"no reader error; the reader confirmed by {r.session.method}"
    assert r.error is ReaderError.by_id(ident), _error_words(r)


@then(parsers.parse('カードリーダーのエラーの詳細に "{text}" が含まれる'))
def reader_error_detail(world: World, text: str) -> None:
    r = result(world)
    assert r.error is not None, "no reader error"
    assert text in r.session.error_detail or text in r.error.message, _error_words(r)


@then("カードリーダーのエラーはない")
def no_reader_error(world: World) -> None:
    r = result(world)
    shown(world)  # when the client was asked to show the result, it showed this placement's
    assert r.error is None, _error_words(r)


@then(parsers.parse('本人確認の方法は "{mode}" である'))
def method_is(world: World, mode: str) -> None:
    expected = MODES.get(mode) or AuthMode.parse(mode)
    assert result(world).session.method is expected, result(world).session.steps


@then("カードは利用者証明用電子証明書の鍵でチャレンジに署名した")
def challenge_signed(world: World) -> None:
    steps = result(world).session.steps
    assert any(s.startswith("challenge signed") for s in steps), steps


@then(parsers.parse('同意画面は "{kinds}" だった'))
def screens_were(world: World, kinds: str) -> None:
    shown = result(world).session.consents_shown
    assert list(shown) == [ConsentKind.parse(k) for k in kinds.split(",")], shown


@then("同意画面は表示されなかった")
def no_screens(world: World) -> None:
    r = result(world)
    assert r.session.consents_shown == (), r.session.consents_shown
    assert any("no consent screens" in s for s in r.session.steps), r.session.steps


@then(parsers.parse('"{person_id}" のカードの暗証番号の残り回数は {count:d} 回である'))
def pin_tries(world: World, person_id: str, count: int) -> None:
    issued = face.feature(world.gateway).registry.issued(person_id)
    assert issued is not None, f"{person_id}'s card was not issued"
    assert issued.pin_tries == count


@then(parsers.parse('"{person_id}" の "{kind}" の閲覧同意が記録されている'))
def consent_recorded(world: World, person_id: str, kind: str) -> None:
    found = world.gateway.consents.latest(person_id, result(world).medical_institution, ConsentKind.parse(kind))
    assert found is not None, f"no {kind} consent recorded"
    assert found.flag is ConsentFlag.GIVEN, found


@then(parsers.parse('"{person_id}" の "{kind}" の閲覧同意は記録されていない'))
def consent_not_recorded(world: World, person_id: str, kind: str) -> None:
    found = world.gateway.consents.latest(person_id, result(world).medical_institution, ConsentKind.parse(kind))
    assert found is None or found.flag is not ConsentFlag.GIVEN, found


# -- then: the journal -------------------------------------------------------------------------------


def last_face_entry(world: World) -> JournalEntry:
    entries = world.gateway.journal.entries(transport=face.TRANSPORT)
    assert entries, "no face entry in the journal"
    entry = entries[-1]
    assert entry.id == result(world).journal_id, "the last face entry is not the last placement's"
    return entry


@then(parsers.parse('ジャーナルの最後の face の記録は "{person_id}" の確認である'))
def journal_confirmation(world: World, person_id: str) -> None:
    entry = last_face_entry(world)
    details = entry.extra["face"]
    assert details["outcome"] == "confirmed", details
    assert details["person_id"] == person_id, details
    assert entry.name == result(world).face_name
    assert entry.segment == "1"
    assert entry.medical_institution == world.medical_institution


@then(parsers.parse('ジャーナルの最後の face の記録はカードリーダーのエラー "{ident}" である'))
def journal_reader_error(world: World, ident: str) -> None:
    entry = last_face_entry(world)
    details = entry.extra["face"]
    assert details["outcome"] == "reader_error", details
    assert details["error"]["id"] == ReaderError.by_id(ident).id, details
    assert entry.reason is not None
    assert ReaderError.by_id(ident).id in entry.reason


@then(parsers.parse('ジャーナルの最後の face の記録の理由に "{text}" が含まれる'))
def journal_face_reason(world: World, text: str) -> None:
    entry = last_face_entry(world)
    assert entry.reason is not None
    assert text in entry.reason, entry.reason
