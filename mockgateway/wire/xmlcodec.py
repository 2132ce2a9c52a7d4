"""XML ⇄ message tree, hardened, with the encodings real terminals use.

A message tree is nested dicts: element name → text (str), child tree (dict) or repeated
elements (list). The interface uses no attributes and no mixed content, so nothing is lost.

Shift_JIS as written by Windows software is really CP932 (it holds 髙, 﨑, ①, …), and libxml2's
Shift_JIS table rejects those characters; so Shift_JIS-family input is decoded with Python's
cp932 codec before lxml sees it, and output is encoded with cp932 as well.
"""

from __future__ import annotations

import re
import threading
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


_local_parsers = threading.local()


def _parser() -> etree.XMLParser:
    """One hardened parser per thread (lxml parsers must not be shared across threads; making one
    costs more than parsing a request)."""
    parser: etree.XMLParser | None = getattr(_local_parsers, "parser", None)
    if parser is None:
        parser = _local_parsers.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
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
    if is_shift_jis(declared) and data.isascii():  # ASCII reads the same in CP932 and UTF-8
        data = b'<?xml version="1.0" encoding="UTF-8"?>' + _DECL_ANY.sub(b"", data, count=1)
    elif is_shift_jis(declared):
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
    # Asking lxml for the doctype costs more than the rest of a small parse; in an ASCII-compatible
    # document without the marker there can be none, so only the others are asked.
    maybe_doctype = b"<!DOCTYPE" in data or data.lstrip()[:1] != b"<"
    if maybe_doctype and bool(getattr(root.getroottree().docinfo, "doctype", "")):
        raise XmlError("xml.malformed", "DOCTYPE 宣言は受け付けません")
    return ParsedXml(root=_local(root.tag), tree=_to_tree(root, 0), encoding=declared)


def _local(tag: object) -> str:
    name = str(tag)
    return name.rsplit("}", 1)[-1] if "}" in name else name


def _to_tree(element: etree._Element, depth: int) -> Tree:
    if depth > MAX_DEPTH:
        raise XmlError("xml.malformed", f"要素の入れ子が深すぎます (>{MAX_DEPTH})")
    out: Tree = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = tag.rsplit("}", 1)[-1] if "}" in tag else tag
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


def _escape(text: str) -> str:
    if not text.isprintable():  # a C loop: the regex runs only for the rare value that needs it
        text = xml_safe(text)
    # Most values hold none of the three characters: three `in` tests are cheaper than translate.
    if "&" in text or "<" in text or ">" in text:
        return text.translate(_ESCAPES)
    return text


class Rendered(dict[str, Node]):
    """A frozen subtree that remembers its rendered XML (the children, without its own tags).

    Results that repeat across requests (one person's qualification) are built once, rendered once
    and then shared: `render` copies the remembered text instead of walking the tree again. It is
    still a dict for every other reader (JSON rendering, tests); it refuses changes, so a shared
    subtree can never drift from its text. `copy.copy`/`deepcopy` give plain dicts.
    """

    __slots__ = ("indented", "xml")

    def __init__(self, tree: Mapping[str, Node]) -> None:
        frozen = {k: freeze(v) for k, v in tree.items()}
        super().__init__(frozen)
        parts: list[str] = []
        _emit_children(parts, frozen)
        self.xml = "".join(parts)
        self.indented: dict[int, str] = {}  # depth → the children rendered indented (files), filled on use

    def _refuse(self, *args: object, **kwargs: object) -> None:
        raise TypeError("a Rendered subtree is shared and read-only: copy it with dict(tree)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse  # type: ignore[assignment]

    def __reduce__(self) -> tuple[type[dict[str, Node]], tuple[dict[str, Node]]]:
        return dict, (dict(self),)

    def __copy__(self) -> dict[str, Node]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, object]) -> dict[str, Node]:
        import copy

        return {k: copy.deepcopy(v, memo) for k, v in self.items()}


def freeze(node: Node) -> Node:
    """Nested dicts become `Rendered` (read-only); lists become new lists of frozen items."""
    if isinstance(node, Rendered) or node is None or isinstance(node, str):
        return node
    if isinstance(node, dict):
        return Rendered(node)
    return [freeze(item) for item in node]


def _emit_children(parts: list[str], tree: Mapping[str, Node]) -> None:
    for name, value in tree.items():
        if value is None:
            continue
        if type(value) is str:
            parts.append(f"<{name}>{_escape(value)}</{name}>")
        else:
            _emit(parts, name, value)


def _emit(parts: list[str], name: str, value: Node) -> None:
    if value is None:
        return
    if isinstance(value, str):
        parts.append(f"<{name}>{_escape(value)}</{name}>")
    elif isinstance(value, Rendered):
        parts.append(f"<{name}>{value.xml}</{name}>")
    elif isinstance(value, dict):
        parts.append(f"<{name}>")
        _emit_children(parts, value)
        parts.append(f"</{name}>")
    else:
        for item in value:
            _emit(parts, name, item)


# What XML 1.0 forbids in a document (§2.2 Char): C0 controls but TAB/LF/CR, lone surrogates,
# U+FFFE and U+FFFF. Text echoed from a request (an API id in a path, a header value) may carry
# them; every rendered value replaces each with U+FFFD (_escape), so every answer is well-formed.
_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"


def xml_safe(text: str) -> str:
    return _FORBIDDEN.sub(REPLACEMENT, text) if _FORBIDDEN.search(text) else text


INDENT = "    "  # a real face file (myclinic-ts onshi-face.test.ts): four spaces a level


def _emit_indented(parts: list[str], name: str, value: Node, depth: int) -> None:
    pad = INDENT * depth
    if value is None:
        return
    if isinstance(value, str):
        parts.append(f"{pad}<{name}>{_escape(value)}</{name}>\n")
    elif isinstance(value, dict) and not value:  # empty: no whitespace text inside
        parts.append(f"{pad}<{name}></{name}>\n")
    elif isinstance(value, Rendered):  # shared: its children are rendered once per depth
        text = value.indented.get(depth)
        if text is None:
            inner: list[str] = []
            for child, item in value.items():
                _emit_indented(inner, child, item, depth + 1)
            text = value.indented[depth] = "".join(inner)
        parts.append(f"{pad}<{name}>\n{text}{pad}</{name}>\n")
    elif isinstance(value, dict):
        parts.append(f"{pad}<{name}>\n")
        for child, item in value.items():
            _emit_indented(parts, child, item, depth + 1)
        parts.append(f"{pad}</{name}>\n")
    else:
        for item in value:
            _emit_indented(parts, name, item, depth)


def render(root: str, tree: Mapping[str, Node], encoding: str = "UTF-8", *, indent: bool = False) -> bytes:
    """Serialise by string building: several times faster than building an lxml tree.

    `indent`: one element per line, nested four spaces a level, as the terminal writes result and
    face files; the default (one line) is what the HTTP routes answer."""
    sjis = is_shift_jis(encoding)
    label = "Shift_JIS" if sjis else "UTF-8"
    parts = [f'<?xml version="1.0" encoding="{label}" standalone="no"?>\n']
    if indent:
        _emit_indented(parts, root, dict(tree), 0)
    else:
        _emit(parts, root, dict(tree))
    text = "".join(parts)
    if sjis:
        # Characters outside CP932 become numeric references rather than failing the response.
        return text.encode("cp932", errors="xmlcharrefreplace")
    return text.encode("utf-8")


def text_at(tree: Mapping[str, Node], *path: str) -> str | None:
    """The text at a path of element names, or None when absent; a repeated element is an error."""
    node: Node = tree  # type: ignore[assignment]  # read only: no copy
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
