"""XML ⇄ message tree, hardened, with the encodings real terminals use.

A message tree is nested dicts: element name → text (str), child tree (dict) or repeated
elements (list). The interface uses no attributes and no mixed content, so nothing is lost.

Shift_JIS as written by Windows software is really CP932 (it holds 髙, 﨑, ①, …), and libxml2's
Shift_JIS table rejects those characters; so Shift_JIS-family input is decoded with Python's
cp932 codec before lxml sees it, and output is encoded with cp932 as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from lxml import etree

Tree: TypeAlias = dict[str, "Node"]
Node: TypeAlias = str | Tree | list["Node"] | None

_SJIS_NAMES = {"shift_jis", "shift-jis", "sjis", "x-sjis", "windows-31j", "cp932", "ms932", "ms_kanji"}
_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)[\"'][^>]*\?>")
_DECL_ANY = re.compile(rb"^\s*<\?xml[^>]*\?>")
MAX_DEPTH = 16  # the deepest interface message nests 6 levels; deeper input is hostile or broken


class XmlError(ValueError):
    """`kind` is a result-code name (xml.malformed, xml.encoding, xml.root …)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ParsedXml:
    root: str
    tree: Tree
    encoding: str  # as declared ("UTF-8" when there was no declaration)


def _parser() -> etree.XMLParser:
    # No entities, no DTD, no network: a request file must never make us read or fetch anything.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=False,
    )


def declared_encoding(data: bytes) -> str | None:
    match = _DECL.match(data[:256])
    return match.group(1).decode("ascii") if match else None


def is_shift_jis(name: str) -> bool:
    return name.lower() in _SJIS_NAMES


def parse(data: bytes) -> ParsedXml:
    declared = declared_encoding(data) or "UTF-8"
    if is_shift_jis(declared):
        try:
            text = data.decode("cp932")
        except UnicodeDecodeError as exc:
            detail = f"Shift_JIS として読めないバイトがあります (位置 {exc.start})"
            raise XmlError("xml.encoding", detail) from exc
        body = _DECL_ANY.sub(b"", text.encode("utf-8"), count=1)
        data = b'<?xml version="1.0" encoding="UTF-8"?>' + body
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        kind = "xml.encoding" if "encoding" in str(exc).lower() else "xml.malformed"
        raise XmlError(kind, str(exc)) from exc
    except ValueError as exc:  # e.g. unsupported encoding names
        raise XmlError("xml.encoding", str(exc)) from exc
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise XmlError("xml.malformed", "DOCTYPE 宣言は受け付けません")
    return ParsedXml(root=_local(root.tag), tree=_to_tree(root, 0), encoding=declared)


def _local(tag: object) -> str:
    name = str(tag)
    return name.rsplit("}", 1)[-1]


def _to_tree(element: etree._Element, depth: int) -> Tree:
    if depth > MAX_DEPTH:
        raise XmlError("xml.malformed", f"要素の入れ子が深すぎます (>{MAX_DEPTH})")
    out: Tree = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        value: Node = _to_tree(child, depth + 1) if len(child) else (child.text or "")
        if name in out:
            existing = out[name]
            if isinstance(existing, list):
                existing.append(value)
            else:
                out[name] = [existing, value]
        else:
            out[name] = value
    return out


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _emit(parts: list[str], name: str, value: Node) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            _emit(parts, name, item)
    elif isinstance(value, dict):
        parts.append(f"<{name}>")
        for key, child in value.items():
            _emit(parts, key, child)
        parts.append(f"</{name}>")
    else:
        parts.append(f"<{name}>{value.translate(_ESCAPES)}</{name}>")


def render(root: str, tree: Mapping[str, Node], encoding: str = "UTF-8") -> bytes:
    """Serialise by string building: several times faster than building an lxml tree."""
    sjis = is_shift_jis(encoding)
    label = "Shift_JIS" if sjis else "UTF-8"
    parts = [f'<?xml version="1.0" encoding="{label}" standalone="no"?>\n']
    _emit(parts, root, dict(tree))
    text = "".join(parts)
    if sjis:
        # Characters outside CP932 become numeric references rather than failing the response.
        return text.encode("cp932", errors="xmlcharrefreplace")
    return text.encode("utf-8")


def text_at(tree: Mapping[str, Node], *path: str) -> str | None:
    """The text at a path of element names, or None when absent; a repeated element is an error."""
    node: Node = dict(tree)
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
        if node is None:
            return None
    if isinstance(node, list):
        raise XmlError("xml.format", f"{'/'.join(path)} が複数あります")
    if isinstance(node, dict):
        raise XmlError("xml.format", f"{'/'.join(path)} は値を持つ要素です")
    return node
