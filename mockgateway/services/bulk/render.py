"""XML of bulk results, byte-identical to `xmlcodec.render`, built for 100,000 units.

Units are rendered once, when their record is processed (`element`), and stored as XML
fragments; a download only joins the stored fragments between the header and the closing tags
(`document`). Rendering at download time from trees cost more than all the processing.
`children` takes a tree with the same result as `xmlcodec.render` but fills one template per
element shape instead of one call per element. tests/services/bulk/test_render.py checks that
both produce the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping

from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_TEMPLATES: dict[tuple[str, ...], str] = {}  # element names of a flat tree → "<A>%s</A><B>%s</B>…"
_CLOSE = "</MessageBody></XmlMsg>"
_ENCODE_BLOCK = 1 << 20  # characters encoded at a time: no second copy of a 100 MB result


def escape(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        return value.translate(_ESCAPES)
    return value


def element(name: str, value: Node) -> str:
    """`<name>…</name>` as xmlcodec renders it (nothing for None, one element per list item)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"<{name}>{escape(value)}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>{children(value)}</{name}>"
    if isinstance(value, list):
        return "".join([element(name, item) for item in value])
    return f"<{name}>{escape(str(value))}</{name}>"


def children(tree: Mapping[str, Node]) -> str:
    """The children of one element. Fast path: every value is text or a child tree — fill a
    per-shape template in one `%` (the shapes of bulk units repeat 100,000 times)."""
    values = [v if v.__class__ is str else children(v) if v.__class__ is dict else None for v in tree.values()]
    if None in values:  # a repeated element, an absent one, or another type: the general path
        return "".join([element(k, v) for k, v in tree.items()])
    texts = "".join([v for v in tree.values() if v.__class__ is str])
    if "&" in texts or "<" in texts or ">" in texts:
        values = [escape(v) if v.__class__ is str else r for v, r in zip(tree.values(), values, strict=True)]
    keys = tuple(tree)
    template = _TEMPLATES.get(keys)
    if template is None:
        if len(_TEMPLATES) > 1_000:
            _TEMPLATES.clear()
        template = _TEMPLATES[keys] = "".join([f"<{k}>%s</{k}>" for k in keys])
    return template % tuple(values)


def render(tree: Tree, encoding: str) -> bytes:
    """An XmlMsg document from a message tree (same bytes as `xmlcodec.render("XmlMsg", tree, …)`)."""
    return _encode([_declaration(encoding), f"<XmlMsg>{children(tree)}</XmlMsg>"], encoding)


def document(header: Tree, units: bytes | Iterable[bytes], encoding: str) -> bytes:
    """`<XmlMsg><MessageHeader>…</MessageHeader><MessageBody>` + stored unit fragments (UTF-8;
    one block, or the stored chunks one by one, each whole units) + `</MessageBody></XmlMsg>`,
    in the output encoding. Built in one growing buffer whose bytes become the result without a
    copy (BytesIO.getvalue), a chunk converted at a time: a 100,000-unit answer is never held
    twice, nor as text."""
    head = f"{_declaration(encoding)}<XmlMsg>{children({'MessageHeader': header, 'MessageBody': {}})}</XmlMsg>"
    assert head.endswith(_CLOSE)
    head = head[: -len(_CLOSE)]
    blocks = [units] if isinstance(units, bytes) else units
    out = io.BytesIO()
    if not xmlcodec.is_shift_jis(encoding):
        out.write(head.encode("utf-8"))
        for block in blocks:
            out.write(block)
    else:
        out.write(_encode([head], encoding))
        for block in blocks:
            out.write(_encode([block.decode("utf-8")], encoding))
    out.write(_CLOSE.encode("ascii"))
    return out.getvalue()


def _declaration(encoding: str) -> str:
    label = "Shift_JIS" if xmlcodec.is_shift_jis(encoding) else "UTF-8"
    return f'<?xml version="1.0" encoding="{label}" standalone="no"?>\n'


def _encode(texts: Iterable[str], encoding: str) -> bytes:
    if not xmlcodec.is_shift_jis(encoding):
        return "".join(texts).encode("utf-8")
    # Characters outside CP932 become numeric references rather than failing the response.
    return b"".join(
        [
            text[i : i + _ENCODE_BLOCK].encode("cp932", errors="xmlcharrefreplace")
            for text in texts
            for i in range(0, len(text), _ENCODE_BLOCK)
        ]
    )


def zip_document(inner: str, xml: bytes, date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """A ZIP holding one file, as real terminals deliver large bulk results ([Y2] ImportResultAsync)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(inner, date_time=date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, xml, compresslevel=1)
    return buffer.getvalue()
