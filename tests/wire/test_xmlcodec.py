"""Hardened XML parse → tree, tree → XML bytes in CP932 or UTF-8."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import MAX_DEPTH, XmlError, declared_encoding, is_shift_jis, parse, render, text_at


def test_parse_builds_a_tree() -> None:
    parsed = parse(b"<XmlMsg><A>1</A><B><C>x</C><D/></B><E></E></XmlMsg>")
    assert parsed.root == "XmlMsg"
    assert parsed.tree == {"A": "1", "B": {"C": "x", "D": ""}, "E": ""}
    assert parsed.encoding == "UTF-8"


def test_repeated_elements_become_a_list() -> None:
    tree = parse(b"<R><L><I>1</I><I>2</I><I>3</I></L><S>x</S></R>").tree
    assert tree == {"L": {"I": ["1", "2", "3"]}, "S": "x"}
    tree = parse(b"<R><I><a>1</a></I><I><a>2</a></I></R>").tree
    assert tree == {"I": [{"a": "1"}, {"a": "2"}]}


def test_whitespace_text_is_kept_as_is() -> None:
    assert parse(b"<R><A>  139998</A><B> </B></R>").tree == {"A": "  139998", "B": " "}


def test_comments_and_processing_instructions_are_dropped() -> None:
    tree = parse(b"<R><!-- c --><?pi x?><A>x<!-- c -->y</A></R>").tree
    assert tree == {"A": "xy"}


def test_namespaces_are_reduced_to_local_names() -> None:
    parsed = parse(b'<n:XmlMsg xmlns:n="urn:x"><n:A>1</n:A></n:XmlMsg>')
    assert parsed.root == "XmlMsg"
    assert parsed.tree == {"A": "1"}


def test_shift_jis_is_read_as_cp932() -> None:
    # 髙, 﨑 and ① are CP932 extensions that strict Shift_JIS tables refuse
    data = '<?xml version="1.0" encoding="Shift_JIS" standalone="no"?><R><A>髙﨑①</A></R>'.encode("cp932")
    parsed = parse(data)
    assert parsed.tree == {"A": "髙﨑①"}
    assert parsed.encoding == "Shift_JIS"


@pytest.mark.parametrize("label", ["Shift_JIS", "shift-jis", "SJIS", "windows-31j", "CP932", "MS932", "x-sjis"])
def test_shift_jis_family_labels(label: str) -> None:
    assert is_shift_jis(label)
    data = f'<?xml version="1.0" encoding="{label}"?><R><A>模擬</A></R>'.encode("cp932")
    assert parse(data).tree == {"A": "模擬"}


def test_not_shift_jis() -> None:
    assert not is_shift_jis("UTF-8")
    assert not is_shift_jis("EUC-JP")


def test_utf8_with_and_without_declaration_and_bom() -> None:
    assert parse('<?xml version="1.0" encoding="UTF-8"?><R><A>髙</A></R>'.encode()).tree == {"A": "髙"}
    assert parse("<R><A>髙</A></R>".encode()).tree == {"A": "髙"}
    assert parse(b"\xef\xbb\xbf<R><A>x</A></R>").tree == {"A": "x"}


def test_declared_encoding() -> None:
    assert declared_encoding(b'<?xml version="1.0" encoding="Shift_JIS" standalone="no"?><a/>') == "Shift_JIS"
    assert declared_encoding(b"<?xml version='1.0' encoding='windows-31j'?><a/>") == "windows-31j"
    assert declared_encoding(b'  <?xml version="1.0" encoding="UTF-8"?><a/>') == "UTF-8"
    assert declared_encoding(b'<?xml version="1.0"?><a/>') is None
    assert declared_encoding(b"<a/>") is None


def test_bad_shift_jis_bytes() -> None:
    with pytest.raises(XmlError) as info:
        parse(b'<?xml version="1.0" encoding="Shift_JIS"?><R>\x81</R>')
    assert info.value.kind == "xml.encoding"
    assert info.value.detail == "Shift_JIS として読めないバイトがあります (位置 45)"  # the byte after <R>


def test_utf8_declared_but_not_utf8() -> None:
    with pytest.raises(XmlError) as info:
        parse('<?xml version="1.0" encoding="UTF-8"?><R>模擬</R>'.encode("cp932"))
    assert info.value.kind == "xml.encoding"


def test_unknown_encoding() -> None:
    with pytest.raises(XmlError) as info:
        parse(b'<?xml version="1.0" encoding="EBCDIC-zz"?><R/>')
    assert info.value.kind == "xml.encoding"
    assert "EBCDIC-zz" in info.value.detail


@pytest.mark.parametrize("data", [b"", b"not xml", b"<R><A>x</B></R>", b"<R>", b"<R/><S/>"])
def test_malformed(data: bytes) -> None:
    with pytest.raises(XmlError) as info:
        parse(data)
    assert info.value.kind == "xml.malformed"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE R [<!ENTITY x SYSTEM "file:///etc/passwd">]><R><A>&x;</A></R>',
        b'<?xml version="1.0"?><!DOCTYPE R [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b"<R><A>&b;</A></R>",
        b'<!DOCTYPE R SYSTEM "http://127.0.0.1:1/evil.dtd"><R/>',
        b"<!DOCTYPE R><R/>",
    ],
)
def test_doctype_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(XmlError) as info:
        parse(data)
    assert info.value.kind == "xml.malformed"
    assert info.value.detail == "DOCTYPE 宣言は受け付けません"


def test_doctype_refused_in_shift_jis_too() -> None:
    data = '<?xml version="1.0" encoding="Shift_JIS"?><!DOCTYPE R [<!ENTITY x "髙">]><R>&x;</R>'.encode("cp932")
    with pytest.raises(XmlError) as info:
        parse(data)
    assert info.value.detail == "DOCTYPE 宣言は受け付けません"


def test_nesting_limit() -> None:
    ok = b"<R>" + b"<a>" * MAX_DEPTH + b"x" + b"</a>" * MAX_DEPTH + b"</R>"
    assert parse(ok).root == "R"
    deep = b"<R>" + b"<a>" * (MAX_DEPTH + 2) + b"x" + b"</a>" * (MAX_DEPTH + 2) + b"</R>"
    with pytest.raises(XmlError) as info:
        parse(deep)
    assert info.value.kind == "xml.malformed"
    assert info.value.detail == f"要素の入れ子が深すぎます (>{MAX_DEPTH})"


# --- render -------------------------------------------------------------------------------------


def test_render_utf8() -> None:
    out = render("XmlMsg", {"A": "髙", "B": {"C": "1"}}, "UTF-8")
    assert (
        out
        == (
            '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<XmlMsg><A>髙</A><B><C>1</C></B></XmlMsg>'
        ).encode()
    )


def test_render_shift_jis_is_cp932() -> None:
    out = render("XmlMsg", {"Name": "髙﨑　咲子", "X": "①"}, "Shift_JIS")
    assert out.startswith(b'<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>\n')
    text = out.decode("cp932")
    assert "<Name>髙﨑　咲子</Name><X>①</X>" in text
    with pytest.raises(UnicodeDecodeError):
        out.decode("utf-8")


def test_render_characters_outside_cp932_become_references() -> None:
    out = render("R", {"A": "𠮷野"}, "cp932")
    assert out.decode("cp932").endswith("<R><A>&#134071;野</A></R>")
    assert parse(out).tree == {"A": "𠮷野"}


def test_render_escapes_and_skips_none() -> None:
    out = render("R", {"A": 'a&b<c>d"', "B": None, "C": ["1", "2"], "D": {"E": None}}, "UTF-8")
    assert out.decode().endswith('<R><A>a&amp;b&lt;c&gt;d"</A><C>1</C><C>2</C><D></D></R>')


def test_render_parse_round_trip() -> None:
    tree: xmlcodec.Tree = {
        "MessageHeader": {"A": "  139998", "B": "髙﨑"},
        "MessageBody": {"L": {"I": [{"x": "1"}, {"x": "2"}]}, "E": "<&>"},
    }
    for encoding in ("UTF-8", "Shift_JIS"):
        parsed = parse(render("XmlMsg", tree, encoding))
        assert parsed.tree == tree
        assert parsed.encoding == encoding


# --- text_at ------------------------------------------------------------------------------------


def test_text_at() -> None:
    tree: xmlcodec.Tree = {"H": {"A": "1", "L": ["x", "y"], "T": {"x": "1"}}, "S": "s"}
    assert text_at(tree, "H", "A") == "1"
    assert text_at(tree, "S") == "s"
    assert text_at(tree, "H", "missing") is None
    assert text_at(tree, "S", "below-text") is None
    with pytest.raises(XmlError) as info:
        text_at(tree, "H", "L")
    assert (info.value.kind, info.value.detail) == ("xml.format", "H/L が複数あります")
    with pytest.raises(XmlError) as info:
        text_at(tree, "H", "T")
    assert (info.value.kind, info.value.detail) == ("xml.format", "H/T は値を持つ要素です")


def test_indented_rendering_puts_one_element_per_line_four_spaces_a_level() -> None:
    shared = xmlcodec.Rendered({"Name": "保険　太郎", "Sex1": "1"})  # remembered unindented text is not reused
    tree = {"MessageHeader": {"SegmentOfResult": "1"}, "MessageBody": {"ResultList": {"R": [shared, {"Name": "b"}]}}}
    text = render("XmlMsg", tree, "UTF-8", indent=True).decode()
    assert text.splitlines() == [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        "<XmlMsg>",
        "    <MessageHeader>",
        "        <SegmentOfResult>1</SegmentOfResult>",
        "    </MessageHeader>",
        "    <MessageBody>",
        "        <ResultList>",
        "            <R>",
        "                <Name>保険　太郎</Name>",
        "                <Sex1>1</Sex1>",
        "            </R>",
        "            <R>",
        "                <Name>b</Name>",
        "            </R>",
        "        </ResultList>",
        "    </MessageBody>",
        "</XmlMsg>",
    ]
    assert parse(text.encode()).tree == parse(render("XmlMsg", tree, "UTF-8")).tree  # same document
    assert list(shared.indented) == [3]  # its children, rendered once at the depth it was met
    again = render("XmlMsg", {"R": shared}, "UTF-8", indent=True).decode()  # another depth, its own text
    assert "        <Name>保険　太郎</Name>" in again.splitlines()
    assert sorted(shared.indented) == [1, 3]
    assert render("XmlMsg", tree, "UTF-8").count(b"\n") == 1  # compact: the declaration's line only


# -- XML 1.0 forbidden characters (issue 18 item 6) -------------------------------------------------

# Arbitrary code points, lone surrogates included (st.text leaves those out).
ANY_TEXT = st.lists(st.integers(0, 0x10FFFF), max_size=40).map(lambda points: "".join(map(chr, points)))
PROPERTY = settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


@PROPERTY
@given(value=ANY_TEXT, encoding=st.sampled_from(["UTF-8", "Shift_JIS"]))
def test_any_text_renders_to_well_formed_xml(value: str, encoding: str) -> None:
    body = xmlcodec.render("XmlMsg", {"MessageHeader": {"ErrorMessage": value}}, encoding)
    # xmlcodec.parse reads Shift_JIS as CP932 (as clients do), then lxml checks well-formedness
    text = xmlcodec.text_at(xmlcodec.parse(body).tree, "MessageHeader", "ErrorMessage") or ""
    assert len(text) <= len(value) * 8  # cp932 may spell a character as a reference; nothing is lost silently
    assert "\x00" not in text
