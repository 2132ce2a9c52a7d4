"""JSON ⇄ message tree for the Web API (`{"XmlMsg": {...}}`, oqs-interface.md §1.1).

The Web API carries the same element tree as the XML, with one difference observed in the
wild: `ResultList` is a JSON array of `{"ResultOfQualificationConfirmation": {...}}` objects
rather than an element with repeated children.
"""

from __future__ import annotations

from typing import Any

import orjson

from mockgateway.wire.xmlcodec import Node, Tree, XmlError

# element → the repeated child it wraps; rendered as a JSON array of one-key objects
LIST_ELEMENTS = {"ResultList": "ResultOfQualificationConfirmation"}


def parse(data: bytes) -> tuple[str, Tree]:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise XmlError("xml.malformed", f"JSONとして解析できません: {exc}") from None
    if not isinstance(doc, dict) or len(doc) != 1:
        raise XmlError("xml.root", '最上位は {"XmlMsg": {...}} の1キーのオブジェクトです')
    root, tree = next(iter(doc.items()))
    if not isinstance(tree, dict):
        raise XmlError("xml.root", f"{root} の値はオブジェクトです")
    return root, _from_json(tree, 0)


def _from_json(value: dict[str, Any], depth: int) -> Tree:
    if depth > 16:
        raise XmlError("xml.malformed", "入れ子が深すぎます")
    out: Tree = {}
    for key, item in value.items():
        if key in LIST_ELEMENTS and isinstance(item, list):
            inner = LIST_ELEMENTS[key]
            out[key] = {inner: [_node(x.get(inner) if isinstance(x, dict) else x, depth + 1) for x in item]}
        else:
            out[key] = _node(item, depth + 1)
    return out


def _node(item: Any, depth: int) -> Node:
    if depth > 16:  # nested arrays too: deep input must not end in a RecursionError
        raise XmlError("xml.malformed", "入れ子が深すぎます")
    if item is None:
        return None
    if isinstance(item, dict):
        return _from_json(item, depth)
    if isinstance(item, list):
        return [_node(x, depth + 1) for x in item]
    if isinstance(item, bool):
        return "1" if item else "0"
    return str(item)


def _to_json(tree: Tree) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, node in tree.items():
        if node is None:
            continue
        if key in LIST_ELEMENTS and isinstance(node, dict):
            inner = node.get(LIST_ELEMENTS[key])
            items = inner if isinstance(inner, list) else [inner] if inner is not None else []
            out[key] = [{LIST_ELEMENTS[key]: _value(x)} for x in items]
        else:
            out[key] = _value(node)
    return out


def _value(node: Node) -> Any:
    if isinstance(node, dict):
        return _to_json(node)
    if isinstance(node, list):
        return [_value(x) for x in node]
    return node


def render(root: str, tree: Tree) -> bytes:
    return orjson.dumps({root: _to_json(tree)})
