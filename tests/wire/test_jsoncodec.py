"""JSON ⇄ message tree for the Web API; ResultList is a JSON array."""

from __future__ import annotations

import orjson
import pytest

from mockgateway.wire import jsoncodec
from mockgateway.wire.xmlcodec import Tree, XmlError


def test_parse_scalars_become_text() -> None:
    root, tree = jsoncodec.parse(b'{"XmlMsg":{"A":1,"B":true,"C":false,"D":null,"E":1.5,"F":"  139998"}}')
    assert root == "XmlMsg"
    assert tree == {"A": "1", "B": "1", "C": "0", "D": None, "E": "1.5", "F": "  139998"}


def test_parse_nested_and_lists() -> None:
    _, tree = jsoncodec.parse(b'{"XmlMsg":{"H":{"A":"1"},"L":["1",{"x":"y"}]}}')
    assert tree == {"H": {"A": "1"}, "L": ["1", {"x": "y"}]}


def test_parse_result_list_array_into_repeated_children() -> None:
    data = orjson.dumps(
        {
            "XmlMsg": {
                "ResultList": [
                    {"ResultOfQualificationConfirmation": {"Name": "a"}},
                    {"ResultOfQualificationConfirmation": {"Name": "b"}},
                ]
            }
        }
    )
    _, tree = jsoncodec.parse(data)
    assert tree == {"ResultList": {"ResultOfQualificationConfirmation": [{"Name": "a"}, {"Name": "b"}]}}


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "xml.malformed"),
        (b"{", "xml.malformed"),
        (b"<XmlMsg/>", "xml.malformed"),
        (b"[1]", "xml.root"),
        (b'"XmlMsg"', "xml.root"),
        (b"{}", "xml.root"),
        (b'{"XmlMsg":{},"Other":{}}', "xml.root"),
        (b'{"XmlMsg":"x"}', "xml.root"),
        (b'{"XmlMsg":[]}', "xml.root"),
    ],
)
def test_parse_errors(data: bytes, kind: str) -> None:
    with pytest.raises(XmlError) as info:
        jsoncodec.parse(data)
    assert info.value.kind == kind


def test_parse_depth_limit_objects_and_arrays() -> None:
    deep_objects = b'{"XmlMsg":' + b'{"a":' * 20 + b"1" + b"}" * 20 + b"}"
    deep_arrays = b'{"XmlMsg":{"a":' + b"[" * 900 + b"]" * 900 + b"}}"
    for data in (deep_objects, deep_arrays):
        with pytest.raises(XmlError) as info:
            jsoncodec.parse(data)
        assert (info.value.kind, info.value.detail) == ("xml.malformed", "入れ子が深すぎます")


def test_render_single_result_is_still_an_array() -> None:
    tree: Tree = {"MessageBody": {"ResultList": {"ResultOfQualificationConfirmation": {"Name": "髙﨑"}}}}
    doc = orjson.loads(jsoncodec.render("XmlMsg", tree))
    assert doc == {"XmlMsg": {"MessageBody": {"ResultList": [{"ResultOfQualificationConfirmation": {"Name": "髙﨑"}}]}}}


def test_render_several_results_and_empty_list() -> None:
    tree: Tree = {"ResultList": {"ResultOfQualificationConfirmation": [{"a": "1"}, {"a": "2"}]}, "Empty": {}}
    doc = orjson.loads(jsoncodec.render("XmlMsg", tree))
    assert doc == {
        "XmlMsg": {
            "ResultList": [
                {"ResultOfQualificationConfirmation": {"a": "1"}},
                {"ResultOfQualificationConfirmation": {"a": "2"}},
            ],
            "Empty": {},
        }
    }
    assert orjson.loads(jsoncodec.render("XmlMsg", {"ResultList": {}})) == {"XmlMsg": {"ResultList": []}}


def test_render_skips_none_and_is_utf8() -> None:
    out = jsoncodec.render("XmlMsg", {"A": None, "B": "髙", "C": ["1", "2"]})
    assert out == '{"XmlMsg":{"B":"髙","C":["1","2"]}}'.encode()


def test_round_trip() -> None:
    tree: Tree = {
        "MessageHeader": {"MedicalInstitutionCode": "1311234569"},
        "MessageBody": {"ResultList": {"ResultOfQualificationConfirmation": [{"x": "1"}, {"x": "2"}]}},
    }
    assert jsoncodec.parse(jsoncodec.render("XmlMsg", tree)) == ("XmlMsg", tree)
