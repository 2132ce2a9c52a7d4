"""Then-steps on the result, asserted twice: on what the terminal returned (the gateway's answer)
and on what the client under test reports it displayed; each also checks what the client sent
(the journal's copy of its request against the order: 医療機関コード, padded 保険者番号, date,
card keys, consent flag)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from mockgateway.harness.orders import Report
from mockgateway.harness.outcome import Outcome, report_problems
from mockgateway.harness.steps.world import World
from mockgateway.wire.xmlcodec import Node, Tree


def outcome(world: World) -> Outcome | None:
    last = world.result()
    return last if isinstance(last, Outcome) else None


def reported(world: World) -> Report | None:
    """The client's report, after checking it answered and sent what the order said."""
    found = outcome(world)
    if found is None:
        return None  # a legacy step set world.last to a raw exchange: gateway-side checks only
    problems = found.sent_problems()
    assert not problems, "what the client sent differs from the order:\n  " + "\n  ".join(problems)
    problems = report_problems(found.report)
    assert not problems, "\n".join(problems)
    return found.report


def header(world: World) -> Tree:
    node = world.result().tree.get("MessageHeader")
    assert isinstance(node, dict), "the result has no MessageHeader"
    return node


def body(world: World) -> Tree:
    node = world.result().tree.get("MessageBody")
    assert isinstance(node, dict), "the result has no MessageBody"
    return node


def results(world: World) -> list[Tree]:
    listing = body(world).get("ResultList")
    if not isinstance(listing, dict):
        return []
    node: Node = listing.get("ResultOfQualificationConfirmation")
    items = node if isinstance(node, list) else [node] if node is not None else []
    return [i for i in items if isinstance(i, dict)]


def only_result(world: World) -> Tree:
    found = results(world)
    assert len(found) == 1, f"expected one ResultOfQualificationConfirmation, got {len(found)}"
    return found[0]


def only_reported(report: Report) -> dict[str, str]:
    assert len(report.results) == 1, (
        f"the client reported {len(report.results)} results, one expected: {list(report.results)}"
    )
    return report.results[0]


def _client(field: str, got: str | None, want: str) -> None:
    assert got == want, f"the client reports {field} {got!r}; the terminal returned {want!r}"


@then(parsers.parse('処理結果区分は "{value}" である'))
def segment_is(world: World, value: str) -> None:
    report = reported(world)
    assert header(world).get("SegmentOfResult") == value, header(world)
    if report is not None:
        _client("SegmentOfResult (処理結果区分)", report.segment, value)


@then(parsers.parse('資格有効性は "{value}" である'))
def validity_is(world: World, value: str) -> None:
    report = reported(world)
    assert body(world).get("QualificationValidity") == value, body(world)
    if report is not None:
        _client("QualificationValidity (資格有効性)", report.validity, value)


@then(parsers.parse('エラーコードは "{value}" である'))
def error_code_is(world: World, value: str) -> None:
    report = reported(world)
    assert header(world).get("ErrorCode") == value, header(world)
    if report is not None:
        _client("ErrorCode (エラーコード)", report.error_code, value)


@then(parsers.parse('エラーメッセージに "{text}" が含まれる'))
def error_message_mentions(world: World, text: str) -> None:
    report = reported(world)
    message = header(world).get("ErrorMessage")
    assert isinstance(message, str), header(world)
    assert text in message, message
    if report is not None:
        shown = report.error_message or report.message
        assert text in shown, f"the client shows {shown!r}, which lacks {text!r} from the terminal's ErrorMessage"


@then(parsers.parse('結果の "{element}" は "{value}" である'))
def result_element_is(world: World, element: str, value: str) -> None:
    report = reported(world)
    assert only_result(world).get(element) == value, only_result(world)
    if report is not None:
        shown = only_reported(report)
        assert element in shown, f"the client did not report {element}; it reported {sorted(shown)}"
        _client(element, shown[element], value)


@then(parsers.parse('結果に "{element}" はない'))
def result_element_absent(world: World, element: str) -> None:
    report = reported(world)
    for item in results(world):
        assert element not in item, item
    if report is not None:
        for shown in report.results:
            assert not shown.get(element), (
                f"the client reports {element}={shown[element]!r}, which the terminal did not return"
            )


@then(parsers.parse('結果に "{element}" がある'))
def result_element_present(world: World, element: str) -> None:
    report = reported(world)
    assert element in only_result(world), only_result(world)
    if report is not None:
        shown = only_reported(report)
        assert element in shown, f"the client did not report {element}; it reported {sorted(shown)}"


@then(parsers.parse("資格確認結果は {count:d} 件である"))
def result_count(world: World, count: int) -> None:
    report = reported(world)
    assert len(results(world)) == count
    if report is not None:
        assert len(report.results) == count, f"the client reports {len(report.results)} results, the terminal {count}"


@then(parsers.parse('結果ファイルは "{encoding}" で書かれ、文字コード識別は "{code}" である'))
def result_encoding(world: World, encoding: str, code: str) -> None:
    reported(world)
    assert world.result().encoding == encoding
    assert header(world).get("CharacterCodeIdentifier") == code


@then("結果ファイル名は要求ファイル名の req を res に替えたものである")
def result_name_mirrors_request(world: World) -> None:
    reported(world)
    exchange = world.result()
    assert exchange.result_name == exchange.request_name.replace("req_", "res_", 1)


@then(parsers.parse('レセコンは "{seconds:d}" 秒以内に結果がないと判断する'))
def client_gave_up(world: World, seconds: int) -> None:
    found = outcome(world)
    assert found is not None, "this step needs an order's outcome"
    assert found.report.status == "no-answer", (
        f"the client reported {found.report.status!r} ({found.report.message!r}); expected it to give up "
        f"after {seconds} s without a result"
    )
    assert not found.report.extra.get("harness_timeout"), (
        f"the client never reported at all (the harness gave up waiting): {found.report.message}"
    )


@then("レセコンは Web API にログインできなかったと報告する")
def client_login_refused(world: World) -> None:
    """Refused at the TLS handshake: nothing reached the gateway, and the client says it failed."""
    found = outcome(world)
    assert found is not None, "this step needs an order's outcome"
    assert found.report.status == "error", (
        f"the client reported {found.report.status!r} ({found.report.message!r}); a refused login is an error"
    )
    assert found.report.segment is None, f"the client reports segment {found.report.segment!r} without a login"
    assert not found.report.results, f"the client reports results without a login: {list(found.report.results)}"
    reached = [f"#{e.id} {e.transport} {e.name or e.api_id}" for e in found.entries]
    assert not reached, f"requests reached the gateway although the handshake should refuse them: {reached}"
