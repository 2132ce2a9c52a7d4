"""OQSCD tables and the overridable result-code table."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgateway.domain.codes import (
    DEFAULT_RESULT_CODES,
    INSURED_CARD_CLASSIFICATION,
    LIMIT_CERTIFICATE_CLASSIFICATION,
    LIMIT_CERTIFICATE_FLAG,
    REASON_OF_LOSS,
    SPECIFIC_DISEASE_CATEGORY,
    CharacterCode,
    ConsentFlag,
    PersonalFamily,
    ProcessingResultStatus,
    ReferenceClassification,
    ResultCode,
    ResultCodes,
    SegmentOfResult,
    Sex,
    Validity,
)


def test_oqscd_values() -> None:
    assert [c.value for c in ReferenceClassification] == ["1", "2"]
    assert [c.value for c in SegmentOfResult] == ["1", "2", "9"]
    assert [c.value for c in ProcessingResultStatus] == ["1", "2"]
    assert CharacterCode.UTF8.value == "0"
    assert CharacterCode.SHIFT_JIS.value == "1"
    assert [c.value for c in Validity] == ["1", "2", "3", "4", "5", "6"]
    assert [c.value for c in Sex] == ["1", "2", "3"]
    assert [c.value for c in PersonalFamily] == ["1", "2"]
    assert [c.value for c in ConsentFlag] == ["0", "1", "2", "3"]


def test_code_tables() -> None:
    assert list(INSURED_CARD_CLASSIFICATION) == ["01", "02", "03", "04", "05", "06", "07", "A1"]
    assert list(LIMIT_CERTIFICATE_CLASSIFICATION) == ["01", "02", "03"]
    assert len(LIMIT_CERTIFICATE_FLAG) == 16
    assert LIMIT_CERTIFICATE_FLAG["A03"] == "ウ"
    assert LIMIT_CERTIFICATE_FLAG["B10"] == "一般Ⅰ"
    assert list(SPECIFIC_DISEASE_CATEGORY) == ["1", "2", "3"]
    assert REASON_OF_LOSS == {"01": "死亡", "02": "生活保護受給開始", "03": "医療保険等の資格取得", "99": "その他"}


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_RESULT_CODES["xml.malformed"] = ResultCode("X", "y")  # type: ignore[index]


def test_default_result_codes_are_unique_and_grouped() -> None:
    codes = [entry.code for entry in DEFAULT_RESULT_CODES.values()]
    assert len(codes) == len(set(codes))
    assert all(code.startswith("MGW") and len(code) == 7 for code in codes)
    assert DEFAULT_RESULT_CODES["xml.required"] == ResultCode("MGW1003", "必須項目がありません: {element}")
    assert DEFAULT_RESULT_CODES["fault.injected"].code == "MGW9001"
    assert DEFAULT_RESULT_CODES["maintenance"].code == "MGW9002"


def test_result_code_format() -> None:
    code = ResultCode("MGW1004", "項目の形式が正しくありません: {element}: {detail}")
    assert code.format(element="A/B", detail="x") == ResultCode("MGW1004", "項目の形式が正しくありません: A/B: x")
    # a missing placeholder leaves the message as it is rather than failing the response
    assert code.format(detail="x") is code
    assert ResultCode("C", "brace { alone").format(detail="x").message == "brace { alone"
    assert ResultCode("C", "no placeholders").format(detail="x").message == "no placeholders"


def test_get_fills_details() -> None:
    codes = ResultCodes()
    assert codes.get("xml.required", element="XmlMsg/MessageHeader") == ResultCode(
        "MGW1003", "必須項目がありません: XmlMsg/MessageHeader"
    )


def test_get_unknown_name_is_an_internal_error() -> None:
    assert ResultCodes().get("no.such") == ResultCode(
        "MGW9999", "内部エラーが発生しました: 未定義の結果コード名 no.such"
    )


def test_names() -> None:
    assert ResultCodes().names() == sorted(DEFAULT_RESULT_CODES)


def test_with_overrides_replaces_code_and_message() -> None:
    base = ResultCodes()
    custom = base.with_overrides(
        {"xml.required": {"code": "E0001", "message": "必須: {element}"}, "maintenance": {"code": "E9000"}}
    )
    assert custom.get("xml.required", element="X") == ResultCode("E0001", "必須: X")
    # only the code changed: our message stays
    assert custom.get("maintenance") == ResultCode("E9000", "メンテナンス中のため処理できません")
    # only the message
    only_message = base.with_overrides({"maintenance": {"message": "保守中"}})
    assert only_message.get("maintenance") == ResultCode("MGW9002", "保守中")
    # the original is untouched
    assert base.get("xml.required", element="X").code == "MGW1003"


def test_with_overrides_stringifies_values() -> None:
    custom = ResultCodes().with_overrides({"internal": {"code": 42}})  # type: ignore[dict-item]
    assert custom.get("internal", detail="d").code == "42"


def test_with_overrides_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match=r"unknown result-code name 'xml\.nope'") as info:
        ResultCodes().with_overrides({"xml.nope": {"code": "E1"}})
    assert "xml.required" in str(info.value)  # lists the known names


def test_with_overrides_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match=r"unknown keys \['text'\]"):
        ResultCodes().with_overrides({"maintenance": {"text": "x"}})


def test_with_overrides_rejects_a_non_mapping_entry() -> None:
    with pytest.raises(ValueError, match="expected a mapping"):
        ResultCodes().with_overrides({"maintenance": "E9000"})  # type: ignore[dict-item]


def test_docs_list_every_result_code() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "codes.md").read_text(encoding="utf-8")
    for name, entry in DEFAULT_RESULT_CODES.items():
        assert f"| `{name}` | `{entry.code}` | {entry.message} |" in docs, name
