"""The engine through `Gateway.process` with real request bytes: encodings, padding, bad files."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockgateway.domain.clock import jst
from mockgateway.domain.codes import ReferenceClassification, ResultCode
from mockgateway.engine import Context, Format, Gateway, Reply, Response, Settings
from mockgateway.services.eligibility import API_ID
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree
from tests.conftest import (
    MIC,
    GatewayFactory,
    body_of,
    eligibility_request,
    header_of,
    reply_tree,
    results_of,
)

KOKUHO = {"insurer": "  139998", "symbol": "模擬市", "number": "100234", "branch": "00", "birthdate": "19650203"}


def process(gateway: Gateway, raw: bytes, *, api_id: str = API_ID, fmt: Format = Format.XML) -> Response:
    return gateway.process(api_id, raw, fmt=fmt, transport="test", name="OQSsiquc01req_0001.xml")


def error_of(response: Response) -> tuple[str, str, str]:
    header = header_of(reply_tree(response))
    segment, code, message = header["SegmentOfResult"], header.get("ErrorCode"), header.get("ErrorMessage")
    assert isinstance(segment, str)
    assert isinstance(code, str)
    assert isinstance(message, str)
    return segment, code, message


# --- encodings ------------------------------------------------------------------------------------


def test_shift_jis_round_trip_with_cp932_only_characters(gateway: Gateway) -> None:
    raw = eligibility_request(arbitrary="髙﨑さん受付", encoding="Shift_JIS")
    assert "髙﨑".encode("cp932") in raw  # the request really is CP932 bytes
    response = process(gateway, raw)
    assert response.media_type == "application/xml; charset=Shift_JIS"
    assert response.extension == ".xml"
    assert response.body.startswith(b'<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>')
    text = response.body.decode("cp932")
    assert "<Name>髙﨑　咲子</Name>" in text
    assert "<InsuredName>髙﨑　咲子</InsuredName>" in text
    assert "<ArbitraryIdentifier>髙﨑さん受付</ArbitraryIdentifier>" in text
    assert "&#" not in text  # nothing had to be replaced by a character reference
    tree = reply_tree(response)
    assert header_of(tree)["CharacterCodeIdentifier"] == "1"
    (result,) = results_of(tree)
    assert result["Name"] == "髙﨑　咲子"
    assert result["NameKana"] == "ﾀｶｻｷ ｻｷｺ"


def test_utf8_request_gets_the_configured_shift_jis_answer(gateway: Gateway) -> None:
    response = process(gateway, eligibility_request(encoding="UTF-8"))
    assert response.body.startswith(b'<?xml version="1.0" encoding="Shift_JIS"')
    assert "髙﨑" in response.body.decode("cp932")


def test_utf8_output_setting(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(settings=Settings(output_encoding="UTF-8"))
    response = process(gateway, eligibility_request(encoding="Shift_JIS"))
    assert response.media_type == "application/xml; charset=UTF-8"
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>')
    assert "<Name>髙﨑　咲子</Name>" in response.body.decode("utf-8")
    assert header_of(reply_tree(response))["CharacterCodeIdentifier"] == "0"


def test_utf8_output_setting_applies_to_errors_too(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(settings=Settings(output_encoding="UTF-8"))
    segment, _, _ = error_of(process(gateway, b"not xml"))
    assert segment == "9"
    assert header_of(reply_tree(process(gateway, b"not xml")))["CharacterCodeIdentifier"] == "0"


def test_name_kana_is_half_width(gateway: Gateway) -> None:
    (result,) = results_of(reply_tree(process(gateway, eligibility_request(**KOKUHO))))
    assert result["NameKana"] == "ｺｸﾎ ｲﾁﾛｳ"


# --- 6-digit insurer numbers ------------------------------------------------------------------------


def test_six_digit_insurer_is_echoed_space_padded(gateway: Gateway) -> None:
    response = process(gateway, eligibility_request(**KOKUHO))
    text = response.body.decode("cp932")
    assert text.count("<InsurerNumber>  139998</InsurerNumber>") == 2  # echo and result
    tree = reply_tree(response)
    echo = body_of(tree)["QualificationConfirmSearchInfo"]
    assert isinstance(echo, dict)
    assert echo["InsurerNumber"] == "  139998"
    (result,) = results_of(tree)
    assert result["InsurerNumber"] == "  139998"


def test_bare_six_digit_refused_when_strict(gateway: Gateway) -> None:
    response = process(gateway, eligibility_request(**{**KOKUHO, "insurer": "139998"}))
    segment, code, message = error_of(response)
    assert (segment, code) == ("9", "MGW1004")
    assert message == (
        "項目の形式が正しくありません: XmlMsg/MessageBody/QualificationConfirmSearchInfo/InsurerNumber: "
        "8桁に満たない保険者番号は先頭を半角空白で埋めて8桁にします: 送信 '139998'、期待 '  139998'"
    )
    assert response.entry.segment == "9"


@pytest.mark.parametrize("strict", [True, False])
def test_zero_padded_six_digit_refused(make_gateway: GatewayFactory, strict: bool) -> None:
    gateway = make_gateway(settings=Settings(strict_insurer_padding=strict))
    segment, code, message = error_of(process(gateway, eligibility_request(**{**KOKUHO, "insurer": "00139998"})))
    assert (segment, code) == ("9", "MGW1004")
    assert message.startswith(f"項目の形式が正しくありません: {SEARCH}/InsurerNumber: 法別番号 00 はありません")


def test_bare_six_digit_accepted_when_not_strict(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(settings=Settings(strict_insurer_padding=False))
    tree = reply_tree(process(gateway, eligibility_request(**{**KOKUHO, "insurer": "139998"})))
    assert header_of(tree)["SegmentOfResult"] == "1"
    assert body_of(tree)["QualificationValidity"] == "1"
    (result,) = results_of(tree)
    assert result["InsurerNumber"] == "  139998"


# --- bad files ------------------------------------------------------------------------------------

XXE = (
    b'<?xml version="1.0"?><!DOCTYPE XmlMsg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b"<XmlMsg><MessageHeader><MedicalInstitutionCode>&xxe;</MedicalInstitutionCode></MessageHeader></XmlMsg>"
)
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE XmlMsg [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<XmlMsg>&c;</XmlMsg>"
)
SEARCH = "XmlMsg/MessageBody/QualificationConfirmSearchInfo"


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (b"not xml at all", "MGW1001", "XMLとして解析できません: "),
        (b"<Other><A>1</A></Other>", "MGW1002", "ルート要素が XmlMsg ではありません: ルート要素 Other"),
        (eligibility_request(mic=None), "MGW1003", "必須項目がありません: XmlMsg/MessageHeader/MedicalInstitutionCode"),
        (eligibility_request(mic=""), "MGW1003", "必須項目がありません: XmlMsg/MessageHeader/MedicalInstitutionCode"),
        (eligibility_request(birthdate=None), "MGW1003", f"必須項目がありません: {SEARCH}/Birthdate"),
        (
            eligibility_request(date=None),
            "MGW1003",
            "必須項目がありません: XmlMsg/MessageHeader/QualificationConfirmationDate",
        ),
        (eligibility_request(number=None), "MGW1003", f"必須項目がありません: {SEARCH}/InsuredIdentificationNumber"),
        (
            eligibility_request(mic="1311234568"),
            "MGW1005",
            "検証番号が正しくありません: XmlMsg/MessageHeader/MedicalInstitutionCode: "
            "医療機関コード 1311234568 の検証番号が正しくありません(期待値 9)",
        ),
        (
            eligibility_request(insurer="06139993"),
            "MGW1005",
            f"検証番号が正しくありません: {SEARCH}/InsurerNumber: "
            "保険者番号 06139993 の検証番号が正しくありません(期待値 2)",
        ),
        (
            eligibility_request(date="20231301"),
            "MGW1006",
            "日付が正しくありません: XmlMsg/MessageHeader/QualificationConfirmationDate: "
            "存在しない日付です: '20231301'",
        ),
        (
            eligibility_request(birthdate="19900230"),
            "MGW1006",
            f"日付が正しくありません: {SEARCH}/Birthdate: 存在しない日付です: '19900230'",
        ),
        (
            eligibility_request(branch="1"),
            "MGW1004",
            f"項目の形式が正しくありません: {SEARCH}/InsuredBranchNumber: 被保険者証枝番は2桁の数字です: '1'",
        ),
        (XXE, "MGW1001", "XMLとして解析できません: DOCTYPE 宣言は受け付けません"),
        (LAUGHS, "MGW1001", "XMLとして解析できません: DOCTYPE 宣言は受け付けません"),
        (
            b'<?xml version="1.0" encoding="Shift_JIS"?><XmlMsg>\x81\x20</XmlMsg>',
            "MGW1008",
            "文字コードが正しくありません: Shift_JIS として読めないバイトがあります (位置 50)",
        ),
        (b"<XmlMsg><MessageBody/></XmlMsg>", "MGW1003", "必須項目がありません: XmlMsg/MessageHeader"),
        (
            b"<XmlMsg><MessageHeader><QualificationConfirmationDate>20250618</QualificationConfirmationDate>"
            b"<MedicalInstitutionCode>1311234569</MedicalInstitutionCode></MessageHeader></XmlMsg>",
            "MGW1003",
            "必須項目がありません: XmlMsg/MessageBody/QualificationConfirmSearchInfo",
        ),
    ],
)
def test_bad_files_get_segment_9(gateway: Gateway, raw: bytes, code: str, message: str) -> None:
    response = process(gateway, raw)
    segment, got_code, got_message = error_of(response)
    assert segment == "9"
    assert got_code == code
    assert got_message.startswith(message)
    assert response.entry.segment == "9"
    assert response.entry.validity is None
    tree = reply_tree(response)
    assert header_of(tree)["ReferenceClassification"] == "2"
    assert tree["MessageBody"] == ""  # present, empty


def test_error_echoes_what_the_header_had(gateway: Gateway) -> None:
    response = process(gateway, eligibility_request(birthdate="1990", file_id="file-77"))
    header = header_of(reply_tree(response))
    assert header["ArbitraryFileIdentifier"] == "file-77"
    assert header["MedicalInstitutionCode"] == MIC
    assert header["QualificationConfirmationDate"] == "20250618"
    assert header["ProcessExecutionTime"] == "20250618103000"
    assert list(header) == [
        "ProcessExecutionTime",
        "QualificationConfirmationDate",
        "MedicalInstitutionCode",
        "ArbitraryFileIdentifier",
        "ReferenceClassification",
        "SegmentOfResult",
        "ErrorCode",
        "ErrorMessage",
        "CharacterCodeIdentifier",
    ]


def test_arbitrary_file_identifier_echoed_on_success(gateway: Gateway) -> None:
    header = header_of(reply_tree(process(gateway, eligibility_request(file_id="ABC=+/xyz"))))
    assert header["ArbitraryFileIdentifier"] == "ABC=+/xyz"
    header = header_of(reply_tree(process(gateway, eligibility_request(file_id=None))))
    assert "ArbitraryFileIdentifier" not in header


def test_too_large_input(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway(settings=Settings(max_request_bytes=1000))
    raw = eligibility_request(arbitrary="x" * 1000)
    segment, code, message = error_of(process(gateway, raw))
    assert (segment, code) == ("9", "MGW1009")
    assert message == f"ファイルサイズが上限を超えています: {len(raw)} bytes > 1000"
    assert header_of(reply_tree(process(gateway, eligibility_request())))["SegmentOfResult"] == "1"  # under it


def test_unknown_api_id(gateway: Gateway) -> None:
    response = process(gateway, eligibility_request(), api_id="OQSzzzzz01")
    segment, code, message = error_of(response)
    assert (segment, code) == ("9", "MGW1007")
    assert message == "API識別IDが不明です: OQSzzzzz01 (対応: OQSsiquc01)"
    header = header_of(reply_tree(response))
    assert "ReferenceClassification" not in header  # no service, no 照会区分
    assert header["ArbitraryFileIdentifier"] == "req-0001"
    assert response.entry.api_id == "OQSzzzzz01"


# --- JSON -----------------------------------------------------------------------------------------


def json_request(**search: str) -> bytes:
    return orjson.dumps(
        {
            "XmlMsg": {
                "MessageHeader": {"QualificationConfirmationDate": "20250618", "MedicalInstitutionCode": MIC},
                "MessageBody": {"QualificationConfirmSearchInfo": search},
            }
        }
    )


def test_json_result_list_is_an_array(gateway: Gateway) -> None:
    raw = json_request(InsurerNumber="06139992", InsuredCardSymbol="7001", InsuredIdentificationNumber="42",
                       InsuredBranchNumber="00", Birthdate="19900909")  # fmt: skip
    response = process(gateway, raw, fmt=Format.JSON)
    assert response.media_type == "application/json;charset=UTF-8"
    doc = orjson.loads(response.body)
    body = doc["XmlMsg"]["MessageBody"]
    assert isinstance(body["ResultList"], list)
    assert len(body["ResultList"]) == 1
    result = body["ResultList"][0]["ResultOfQualificationConfirmation"]
    assert result["Name"] == "髙﨑　咲子"
    assert result["InsurerNumber"] == "06139992"
    assert doc["XmlMsg"]["MessageHeader"]["SegmentOfResult"] == "1"


def test_json_multiple_results(gateway: Gateway) -> None:
    raw = json_request(InsurerNumber="31139991", InsuredCardSymbol="88", InsuredIdentificationNumber="777",
                       Birthdate="20180612")  # fmt: skip
    body = orjson.loads(process(gateway, raw, fmt=Format.JSON).body)["XmlMsg"]["MessageBody"]
    assert body["QualificationValidity"] == "5"
    assert [r["ResultOfQualificationConfirmation"]["Name"] for r in body["ResultList"]] == ["双子　一花", "双子　二花"]


def test_json_errors(gateway: Gateway) -> None:
    doc = orjson.loads(process(gateway, b"{not json", fmt=Format.JSON).body)
    assert doc["XmlMsg"]["MessageHeader"]["SegmentOfResult"] == "9"
    assert doc["XmlMsg"]["MessageHeader"]["ErrorCode"] == "MGW1001"
    doc = orjson.loads(process(gateway, b'{"Other":{}}', fmt=Format.JSON).body)
    assert doc["XmlMsg"]["MessageHeader"]["ErrorCode"] == "MGW1002"


# --- the engine never raises ----------------------------------------------------------------------


class Exploding:
    reference = ReferenceClassification.INSURANCE_CARD

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        raise KeyError("bug")


class Shaped:
    """A service that shapes its own error results (e.g. bulk interfaces)."""

    reference = None

    def handle(self, ctx: Context, tree: Tree) -> Reply:
        raise ValueError("never")

    def error_tree(self, ctx: Context, echo: dict[str, str], code: ResultCode) -> Tree:
        return {"MessageHeader": {"Custom": code.code, "Mic": echo.get("MedicalInstitutionCode", "-")}}


def test_a_service_bug_becomes_mgw9999(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    gateway.register("OQSboom01", Exploding())
    response = process(gateway, eligibility_request(), api_id="OQSboom01")
    segment, code, message = error_of(response)
    assert (segment, code, message) == ("9", "MGW9999", "内部エラーが発生しました: KeyError")
    assert response.entry.reason == "KeyError('bug')"
    assert "internal error handling OQSboom01" in caplog.text


def test_error_tree_shaper(gateway: Gateway) -> None:
    gateway.register("OQSshape01", Shaped())
    tree = reply_tree(process(gateway, b"broken", api_id="OQSshape01"))
    assert tree == {"MessageHeader": {"Custom": "MGW1001", "Mic": "-"}}


def test_custom_reply_document(gateway: Gateway) -> None:
    class Pdf:
        reference = None

        def handle(self, ctx: Context, tree: Tree) -> Reply:
            return Reply({}, document=b"%PDF-1.4", extension=".pdf", media_type="application/pdf")

    gateway.register("YZKsiquc01", Pdf())
    response = process(gateway, eligibility_request(), api_id="YZKsiquc01")
    assert (response.body, response.media_type, response.extension) == (b"%PDF-1.4", "application/pdf", ".pdf")


def test_context_given_to_services(gateway: Gateway) -> None:
    seen: list[Context] = []

    class Spy:
        reference = None

        def handle(self, ctx: Context, tree: Tree) -> Reply:
            seen.append(ctx)
            return Reply({"MessageHeader": {"ok": "1"}})

    gateway.register("OQSspy01", Spy())
    gateway.process("OQSspy01", eligibility_request(), fmt=Format.XML, transport="folder", name="f.xml")
    (ctx,) = seen
    assert (ctx.api_id, ctx.transport, ctx.name, ctx.now) == ("OQSspy01", "folder", "f.xml", jst(2025, 6, 18, 10, 30))
    assert ctx.gateway is gateway
    assert ctx.index is gateway.index
    assert ctx.codes is gateway.codes
    assert ctx.character_code.value == "1"


# --- journal and clock ----------------------------------------------------------------------------


def test_every_exchange_is_journaled(gateway: Gateway) -> None:
    raw = eligibility_request(birthdate="19900910")
    response = process(gateway, raw)
    entry = response.entry
    assert gateway.journal.entries() == [entry]
    assert entry.id == 1
    assert entry.at == "20250618103000"
    assert entry.transport == "test"
    assert entry.api_id == API_ID
    assert entry.name == "OQSsiquc01req_0001.xml"
    assert entry.medical_institution == MIC
    assert entry.request == raw
    assert entry.response == response.body
    assert (entry.segment, entry.validity) == ("1", "4")
    assert entry.reason is not None
    assert entry.reason.startswith("生年月日が一致しません: 送信 19900910")
    assert entry.fault is None


def test_error_reason_is_journaled(gateway: Gateway) -> None:
    entry = process(gateway, eligibility_request(birthdate=None)).entry
    assert entry.reason == f"{SEARCH}/Birthdate: 必須項目です"
    assert process(gateway, b"junk").entry.medical_institution is None


def test_processing_uses_the_virtual_clock(gateway: Gateway) -> None:
    gateway.clock.advance(dt.timedelta(days=1, seconds=5))
    header = header_of(reply_tree(process(gateway, eligibility_request())))
    assert header["ProcessExecutionTime"] == "20250619103005"
    assert header["QualificationConfirmationDate"] == "20250618"  # the request's date


def test_clock_state_survives_a_restart(make_gateway: GatewayFactory) -> None:
    first = make_gateway()
    first.clock.set(jst(2031, 2, 3, 4, 5, 6), running=False)
    first.save_clock()
    assert first.store.get_state("clock") == {
        "anchor_virtual": "2031-02-03T04:05:06+09:00",
        "anchor_real": first.clock.state.anchor_real,
        "running": False,
        "rate": 1.0,
    }
    first.clock.set(jst(2025, 6, 18, 10, 30), running=False)  # the shared fixture clock
    second = make_gateway(personas=False)
    assert second.clock.now() == jst(2031, 2, 3, 4, 5, 6)


# -- the saved clock and /health (issue 18 item 1) ---------------------------------------------------


def test_a_saved_clock_that_cannot_run_is_a_clear_error_with_a_way_out(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    from mockgateway.domain.clock import VirtualClock
    from mockgateway.engine import ClockStateError
    from mockgateway.store.sqlite import SqliteRepository

    db = tmp_path / "bricked.sqlite3"
    store = SqliteRepository(db)
    # what a gateway of before saved after POST /admin/clock {"rate": 1e308}
    store.set_state("clock", {"anchor_virtual": "2026-11-23T10:00:00+09:00", "anchor_real": 0.0, "running": True,
                              "rate": 1e308})  # fmt: skip
    store.close()
    with pytest.raises(ClockStateError, match="--reset-clock"):
        Gateway(SqliteRepository(db), VirtualClock(time.time))
    reset = Gateway(SqliteRepository(db), VirtualClock(time.time), reset_clock=True)
    assert reset.clock.state.rate == 1.0
    again = Gateway(SqliteRepository(db), VirtualClock(time.time))  # and the good state was saved
    assert abs(again.clock.now().timestamp() - time.time()) < 3600


def test_health_runs_a_canary_through_the_engine(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockgateway import health

    status, doc = health.check(gateway)
    assert (status, doc["status"], doc["canary"]["segment"]) == (200, "ok", "1")
    assert len(gateway.journal) == 0  # the canary is not journaled

    def broken(ctx: Context, tree: Tree) -> Reply:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(gateway.services[API_ID], "handle", broken)
    status, doc = health.check(gateway)
    assert status == 503
    assert "OverflowError" in doc["problems"][0]
    gateway.health_checks.append(lambda: "res/ not writable")
    assert "res/ not writable" in health.check(gateway)[1]["problems"]


# -- every echo path answers well-formed XML (issue 18 item 6) -------------------------------------

ANY_TEXT = st.lists(st.integers(0, 0x10FFFF), max_size=30).map(lambda points: "".join(map(chr, points)))


def test_an_api_id_of_any_code_points_is_echoed_as_well_formed_xml(gateway: Gateway) -> None:
    @settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(api_id=ANY_TEXT, encoding=st.sampled_from(["Shift_JIS", "UTF-8"]), empty=st.booleans())
    def probe(api_id: str, encoding: str, empty: bool) -> None:
        gateway.settings.output_encoding = encoding
        raw = b"" if empty else eligibility_request()
        answer = gateway.process(api_id, raw, fmt=Format.XML, transport="http", name=api_id)
        parsed = xmlcodec.parse(answer.body)  # raises if not well-formed
        assert xmlcodec.text_at(parsed.tree, "MessageHeader", "SegmentOfResult") in ("1", "9")
        orjson.dumps(answer.entry.as_dict())  # and the journal can still be read

    probe()
