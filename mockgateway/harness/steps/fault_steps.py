"""Steps about the terminal's faults (障害・異常系): errors, lost answers, latency, maintenance and a
bulk job that stays 処理中. They set fault rules exactly as the admin API's `POST /admin/faults`
does (docs/admin.md), on the scenario's own gateway."""

from __future__ import annotations

import datetime as dt
import threading

from pytest_bdd import given, parsers, then

from mockgateway.control.faults import rule_from_dict
from mockgateway.domain.clock import JST
from mockgateway.harness.outcome import Outcome
from mockgateway.harness.steps.world import World


def _stamp(text: str) -> str:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").strftime("%Y%m%d%H%M%S")


def _outcome(world: World) -> Outcome:
    last = world.result()
    assert isinstance(last, Outcome), "this step needs an order's outcome"
    return last


@given(
    parsers.parse('資格確認端末は次の {times:d} 件の資格確認にエラーコード "{code}" とメッセージ "{message}" で答える')
)
def inject_error(world: World, times: int, code: str, message: str) -> None:
    spec = {"kind": "error", "api_id": "OQSsiquc01", "error_code": code, "error_message": message, "times": times}
    world.gateway.faults.add(rule_from_dict(spec))


@given(parsers.parse("資格確認端末は次の {times:d} 件の資格確認に結果を返さない"))
def inject_drop(world: World, times: int) -> None:
    world.gateway.faults.add(rule_from_dict({"kind": "drop", "api_id": "OQSsiquc01", "times": times}))


@given(parsers.parse("資格確認端末の応答は {ms:d} ミリ秒遅れる"))
def inject_latency(world: World, ms: int) -> None:
    world.gateway.faults.add(rule_from_dict({"kind": "latency", "api_id": "OQSsiquc01", "latency_ms": ms}))


@given(parsers.parse('資格確認端末は "{start}" から "{end}" までメンテナンス中である'))
def maintenance(world: World, start: str, end: str) -> None:
    spec = {"kind": "maintenance", "start": _stamp(start), "end": _stamp(end)}
    world.gateway.faults.add(rule_from_dict(spec))


@given(parsers.parse('メンテナンス中に要求が届いたら、時計を "{when}" に進める'))
def advance_when_held(world: World, when: str) -> None:
    """A stage hand: once a request waits in req for the window to end, move the clock past it."""
    target = dt.datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=JST)
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.02):
            if world.folder.held_files():
                world.notes["held"] = list(world.folder.held_files())
                world.gateway.clock.set(target, running=False)
                world.folder.wake()
                return

    thread = threading.Thread(target=watch, daemon=True, name="maintenance-stagehand")
    thread.start()

    def finish() -> None:
        stop.set()
        thread.join(5)

    world.cleanups.append(finish)


@given(parsers.parse("一括照会の処理に {pace} かかる"))
def slow_bulk(world: World, pace: str) -> None:
    from mockgateway.services.bulk import service as bulk

    bulk.configure(world.gateway, pace=pace)


@then("レセコンは結果が返らなかったと報告する")
def client_reports_no_answer(world: World) -> None:
    found = _outcome(world)
    assert not found.report.extra.get("harness_timeout"), (
        f"the client never reported at all (the harness gave up waiting): {found.report.message}"
    )
    assert found.report.status == "no-answer", (
        f"the client reported {found.report.status!r} ({found.report.message!r}); it should say no result came"
    )


@then("ジャーナルには結果を返さなかった要求が記録されている")
def journal_dropped(world: World) -> None:
    found = _outcome(world)
    problems = found.sent_problems()
    assert not problems, "what the client sent differs from the order:\n  " + "\n  ".join(problems)
    assert found.entry.fault == "drop", f"journal #{found.entry.id}: fault {found.entry.fault!r}, expected 'drop'"


@then(parsers.parse("レセコンは同じ要求を {count:d} 回だけ送った"))
def sent_once(world: World, count: int) -> None:
    found = _outcome(world)
    mine = [e for e in found.entries if e.api_id == found.order.api_id]
    names = [e.name for e in mine]
    assert len(mine) == count, f"the client sent {len(mine)} {found.order.api_id} requests ({names}), {count} expected"


@then(parsers.parse('要求はメンテナンス終了後の "{when}" 以降に処理された'))
def processed_after(world: World, when: str) -> None:
    found = _outcome(world)
    assert world.notes.get("held"), "no request was ever held for the maintenance window"
    assert found.entry.at >= _stamp(when), f"journal #{found.entry.id} processed at {found.entry.at}, before {when}"


@then("レセコンは一括照会が処理中のまま終わらなかったと報告する")
def bulk_still_processing(world: World) -> None:
    found = _outcome(world)
    problems = found.sent_problems()
    assert not problems, "what the client sent differs from the order:\n  " + "\n  ".join(problems)
    report = found.report
    assert not report.extra.get("harness_timeout"), f"the client never reported: {report.message}"
    assert report.status == "no-answer", f"the client reported {report.status!r}: {report.message!r}"
    assert report.segment == "2", f"the client reports SegmentOfResult {report.segment!r}; the terminal said 2 (処理中)"


@then(parsers.parse("一括照会の結果取得は {count:d} 回以上、{seconds:g} 秒以上の間隔で行われた"))
def bulk_polled_sanely(world: World, count: int, seconds: float) -> None:
    from mockgateway.services.bulk.polling import polling_pattern

    found = _outcome(world)
    numbers = {e.extra.get("reception_number") for e in found.entries if e.extra.get("bulk") == "upload"}
    numbers.discard(None)
    assert len(numbers) == 1, f"expected one 一括照会 upload for the order, the journal has {sorted(map(str, numbers))}"
    pattern = polling_pattern(world.gateway, str(numbers.pop()))
    assert pattern.polls >= count, f"the client polled {pattern.polls} times; at least {count} expected"
    assert not pattern.hammers(seconds), (
        f"the client polled {pattern.reception_number} with intervals down to {pattern.min_interval:.2f} s "
        f"(at least {seconds:g} s expected)"
    )
