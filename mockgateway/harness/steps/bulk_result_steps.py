"""Then-steps about 資格確認一括照会: the results unit by unit, as the client reported them and as
the terminal holds them, the result file's form, and the client's polling pattern (bulk_steps.py
has the setup, the client's actions and the readers these steps share)."""

from __future__ import annotations

import re
from collections import Counter

from pytest_bdd import parsers, then

from mockgateway.harness.steps.bulk_steps import (
    RESTART,
    _unit,
    both,
    bulk_outcome,
    checked,
    lookup,
    reception_number,
    terminal_job,
)
from mockgateway.harness.steps.world import World
from mockgateway.services.bulk.polling import PollingPattern, polling_pattern
from mockgateway.wire.xmlcodec import Tree

# -- then ----------------------------------------------------------------------------------------------


@then(parsers.parse("一括照会の結果は {total:d} 件で、正常 {normal:d} 件、エラー {errors:d} 件である"))
def bulk_counts(world: World, total: int, normal: int, errors: int) -> None:
    shown, held = both(world)
    job = terminal_job(world, bulk_outcome(world))
    assert (job.total, job.total - job.errors, job.errors) == (total, normal, errors), (
        f"the terminal counts {job.total} / {job.total - job.errors} / {job.errors}"
    )
    assert len(held) == total, f"the terminal holds {len(held)} units"
    statuses = Counter(lookup(u, "ProcessingResultStatus") for u in shown)
    assert len(shown) == total, f"the client reports {len(shown)} results; the terminal returned {total}"
    assert (statuses["1"], statuses["2"]) == (normal, errors), (
        f"the client reports {statuses['1']} normal and {statuses['2']} error results (ProcessingResultStatus); "
        f"the terminal returned {normal} and {errors}"
    )


@then("一括照会の結果は要求の順に並ぶ")
def bulk_in_order(world: World) -> None:
    shown, held = both(world)
    cards = bulk_outcome(world).order.cards

    def keys(units: list[Tree]) -> list[tuple[str | None, str | None]]:
        echoes = [u.get("QualificationConfirmSearchInfo") for u in units]
        return [(lookup(e, "InsuredIdentificationNumber"), lookup(e, "Birthdate")) for e in echoes]

    ordered = [(c.number, c.birthdate) for c in cards]
    assert keys(held) == ordered, "the terminal's units are not in request order"
    got = keys(shown)
    first = next((i for i, (a, b) in enumerate(zip(got, ordered, strict=False), 1) if a != b), None)
    assert got == ordered, (
        f"the client reports its results out of request order or incomplete (first difference at {first}件目: "
        f"{got[first - 1] if first and first <= len(got) else None} for {ordered[first - 1] if first else None})"
    )


@then(parsers.parse("一括照会の結果の資格有効性は {counts}である"))
def bulk_validities(world: World, counts: str) -> None:
    expected = {v: int(n) for v, n in re.findall(r'"(\d)" が (\d+) 件', counts)}
    assert expected, f'write the counts as "1" が 80 件、"2" が 10 件: {counts!r}'
    shown, held = both(world)
    terminal = Counter(v for v in (lookup(u, "QualificationValidity") for u in held) if v)
    assert dict(terminal) == {v: n for v, n in expected.items() if n}, f"the terminal returned {dict(terminal)}"
    client = Counter(v for v in (lookup(u, "QualificationValidity") for u in shown) if v)
    assert dict(client) == dict(terminal), (
        f"the client reports the validities {dict(client)}; the terminal returned {dict(terminal)}"
    )


@then(parsers.parse('一括照会の {k:d} 件目の "{element}" は "{value}" である'))
def bulk_unit_element(world: World, k: int, element: str, value: str) -> None:
    shown, held = both(world)
    got = lookup(_unit(held, k, "the terminal's result"), element)
    assert got == value, f"the terminal's {k}件目 {element} is {got!r}"
    reported_value = lookup(_unit(shown, k, "the client's report"), element)
    assert reported_value == value, (
        f"the client reports {element} {reported_value!r} for {k}件目; the terminal {value!r}"
    )


@then(parsers.parse('一括照会の {k:d} 件目に "{element}" はない'))
def bulk_unit_element_absent(world: World, k: int, element: str) -> None:
    shown, held = both(world)
    got = lookup(_unit(held, k, "the terminal's result"), element)
    assert got is None, f"the terminal's {k}件目 has {element} {got!r}"
    reported_value = lookup(_unit(shown, k, "the client's report"), element)
    assert not reported_value, f"the client shows {element} {reported_value!r} for {k}件目; the terminal has none"


@then(parsers.parse('一括照会の {k:d} 件目の資格有効性は "{value}" である'))
def bulk_unit_validity(world: World, k: int, value: str) -> None:
    bulk_unit_element(world, k, "QualificationValidity", value)


@then(parsers.parse('一括照会の {k:d} 件目は処理結果コード "{code}" のエラーで、メッセージに "{text}" が含まれる'))
def bulk_unit_error(world: World, k: int, code: str, text: str) -> None:
    shown, held = both(world)
    units = (
        ("the terminal's", _unit(held, k, "the terminal's result")),
        ("the client's", _unit(shown, k, "the report")),
    )
    for who, unit in units:
        status, got_code = lookup(unit, "ProcessingResultStatus"), lookup(unit, "ProcessingResultCode")
        message = lookup(unit, "ProcessingResultMessage") or ""
        assert (status, got_code) == ("2", code), f"{who} {k}件目: ProcessingResultStatus {status!r}, code {got_code!r}"
        assert text in message, f"{who} {k}件目 message {message!r} lacks {text!r}"
        assert lookup(unit, "QualificationValidity") is None, f"{who} {k}件目 has a 資格有効性 beside its error"


@then(parsers.parse('一括照会の結果のどの件にも "{element}" はない'))
def bulk_element_nowhere(world: World, element: str) -> None:
    shown, held = both(world)
    for who, units in (("the terminal", held), ("the client", shown)):
        with_it = [i for i, u in enumerate(units, 1) if lookup(u, element)]
        assert not with_it, f"{who} has {element} in {with_it}件目"


@then("一括照会の結果ファイルは ZIP である")
def bulk_zipped(world: World) -> None:
    found = bulk_outcome(world)
    report = checked(found)
    download = found.entry
    assert download.response[:4] == b"PK\x03\x04", f"the terminal answered {download.name} without a ZIP"
    inner = download.extra.get("zip_entry")
    assert isinstance(inner, str), download.extra
    assert inner.endswith(".xml"), download.extra
    if report.result_file:  # the client said which file it read
        assert report.result_file.endswith(".zip"), f"the client reports {report.result_file}, not the ZIP result"
    assert report.results, "the client shows no results from the ZIP"


# -- then: polling ---------------------------------------------------------------------------------------


def pattern(world: World) -> PollingPattern:
    found = bulk_outcome(world)
    number = reception_number(found)
    assert number is not None, f"the terminal accepted no upload for order {found.order.order_id}"
    return polling_pattern(world.gateway, number)


def _fetched_once(world: World) -> PollingPattern:
    found = bulk_outcome(world)
    checked(found)
    p = pattern(world)
    assert not p.gave_up_early, (
        f"the client stopped polling at {p.last_poll_at} before the job finished at {p.completed_at}"
    )
    assert p.downloaded, f"the client never fetched the result ({p.polls} polls, {p.processing_answers} 処理中)"
    assert p.polls_after_download == 0, f"the client polled {p.polls_after_download} more times after the result"
    assert found.report.segment == "1", f"the client reports SegmentOfResult {found.report.segment!r}"
    return p


@then("レセコンは処理中の間も問い合わせを続け、処理が終わってから結果を一度だけ受け取った")
def polled_until_done(world: World) -> None:
    p = _fetched_once(world)
    assert p.processing_answers >= 1, f"the client never polled while the job was 処理中 ({p.polls} polls)"


@then("レセコンは処理が終わるまで問い合わせを続け、結果を一度だけ受け取った")
def fetched_once(world: World) -> None:
    _fetched_once(world)


@then(parsers.parse("最初の問い合わせは受付から {seconds:g} 秒以上あとだった"))
def first_poll_not_at_once(world: World, seconds: float) -> None:
    p = pattern(world)
    assert p.first_poll_delay is not None, "the client never polled"
    assert p.first_poll_delay >= seconds, f"the first poll came {p.first_poll_delay:.2f} s after the upload"


@then("資格確認端末は一括照会の処理の途中で再起動した")
def restarted_mid_job(world: World) -> None:
    note = world.notes.get(RESTART)
    assert isinstance(note, dict), "the terminal never restarted: no 一括照会 job reached the trigger"
    assert "error" not in note, f"the restart failed: {note['error']}"
    number = reception_number(bulk_outcome(world))
    assert note["reception_number"] == number, (note, number)
    processed, total = next((p, t) for n, p, t in note["jobs"] if n == number)
    assert 0 < processed < total, f"the restart came with {processed}/{total} records done, not mid-job"
