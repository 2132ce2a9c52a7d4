"""Then-steps on what the terminal returned (the result file)."""

from __future__ import annotations

from pytest_bdd import parsers, then

from mockgateway.xmlcodec import Node, Tree
from tests.steps.world import World


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


@then(parsers.parse('処理結果区分は "{value}" である'))
def segment_is(world: World, value: str) -> None:
    assert header(world).get("SegmentOfResult") == value, header(world)


@then(parsers.parse('資格有効性は "{value}" である'))
def validity_is(world: World, value: str) -> None:
    assert body(world).get("QualificationValidity") == value, body(world)


@then(parsers.parse('エラーコードは "{value}" である'))
def error_code_is(world: World, value: str) -> None:
    assert header(world).get("ErrorCode") == value, header(world)


@then(parsers.parse('エラーメッセージに "{text}" が含まれる'))
def error_message_mentions(world: World, text: str) -> None:
    message = header(world).get("ErrorMessage")
    assert isinstance(message, str), header(world)
    assert text in message, message


@then(parsers.parse('結果の "{element}" は "{value}" である'))
def result_element_is(world: World, element: str, value: str) -> None:
    assert only_result(world).get(element) == value, only_result(world)


@then(parsers.parse('結果に "{element}" はない'))
def result_element_absent(world: World, element: str) -> None:
    for item in results(world):
        assert element not in item, item


@then(parsers.parse('結果に "{element}" がある'))
def result_element_present(world: World, element: str) -> None:
    assert element in only_result(world), only_result(world)


@then(parsers.parse("資格確認結果は {count:d} 件である"))
def result_count(world: World, count: int) -> None:
    assert len(results(world)) == count


@then(parsers.parse('結果ファイルは "{encoding}" で書かれ、文字コード識別は "{code}" である'))
def result_encoding(world: World, encoding: str, code: str) -> None:
    assert world.result().encoding == encoding
    assert header(world).get("CharacterCodeIdentifier") == code


@then("結果ファイル名は要求ファイル名の req を res に替えたものである")
def result_name_mirrors_request(world: World) -> None:
    exchange = world.result()
    assert exchange.result_name == exchange.request_name.replace("req_", "res_", 1)
