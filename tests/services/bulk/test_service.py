"""資格確認一括照会 (OQSmuquc01/02) through `Gateway.process` with real request bytes.

Processing is driven deterministically: a fake real-time source for the pace, and
`worker.run_once()` instead of the background thread, except in the test of the thread itself
(which waits with a bounded loop, never on wall time).
"""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from mockgateway.config import DEFAULT_FIXTURES
from mockgateway.domain.clock import format_timestamp
from mockgateway.engine import Format, Gateway, Response
from mockgateway.fixtures import load_paths
from mockgateway.services import reference_numbers
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.layout import CONFIRM, download_tree, upload_tree
from mockgateway.services.bulk.polling import polling_pattern
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree
from tests.conftest import FROZEN_AT, MIC, TODAY, GatewayFactory, body_of, eligibility_request, header_of, reply_tree

OTHER_MIC = "1311234577"  # another 医療機関 (valid check digit)
Record = dict[str, str]


class FakeTime:
    """The real-time source of the pace: moves only when a test says so."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def install(gateway: Gateway, *, pace: str = "instant", time_source: Callable[[], float] | None = None,
            **settings: Any) -> bulk.BulkFeature:  # fmt: skip
    reference_numbers.install(gateway)
    bulk.install(gateway)
    feature = bulk.feature(gateway)
    assert feature is not None
    if time_source is not None:
        feature.real_time = feature.worker.real_time = time_source
    feature.configure(pace=pace, **settings)
    return feature


def record(
    insurer: str = "06139992", symbol: str | None = "7001", number: str | None = "42", branch: str | None = "00",
    birthdate: str | None = "19900909", ident: str | None = None, consent: str | None = "0",
) -> Record:  # fmt: skip
    """One QualificationConfirmSearchInfo; defaults to takasaki-sakiko. None leaves an element out."""
    fields = {
        "InsurerNumber": insurer,
        "InsuredCardSymbol": symbol,
        "InsuredIdentificationNumber": number,
        "InsuredBranchNumber": branch,
        "Birthdate": birthdate,
        "LimitApplicationCertificateRelatedConsFlg": consent,
        "ArbitraryIdentifier": ident,
    }
    return {k: v for k, v in fields.items() if v is not None}


def upload_bytes(records: Sequence[Mapping[str, Node]], *, mic: str = MIC, encoding: str = "Shift_JIS",
                 file_id: str | None = "bulk-0001", date: str | None = None) -> bytes:  # fmt: skip
    tree = upload_tree(CONFIRM, mic, records, file_identifier=file_id, confirmation_date=date)
    return xmlcodec.render("XmlMsg", tree, encoding)


def upload(gateway: Gateway, records: Sequence[Mapping[str, Node]], **kwargs: Any) -> Response:
    raw = upload_bytes(records, **kwargs)
    return gateway.process("OQSmuquc01", raw, fmt=Format.XML, transport="test", name="OQSmuquc01req_0001.xml")


def reception_number(response: Response) -> str:
    tree = reply_tree(response)
    assert header_of(tree)["SegmentOfResult"] == "1", tree
    number = body_of(tree)["ReceptionNumber"]
    assert isinstance(number, str)
    return number


def download(gateway: Gateway, number: str, *, mic: str = MIC, encoding: str = "UTF-8",
             api_id: str = "OQSmuquc02") -> Response:  # fmt: skip
    raw = xmlcodec.render("XmlMsg", download_tree(mic, number), encoding)
    return gateway.process(api_id, raw, fmt=Format.XML, transport="test", name=f"{api_id}req_0002.xml")


def units_of(tree: Tree) -> list[Tree]:
    node = body_of(tree).get("BulkConfirmUnit")
    items = [] if node is None else node if isinstance(node, list) else [node]
    return [item for item in items if isinstance(item, dict)]


def ident_of(unit: Tree) -> str | None:
    return xmlcodec.text_at(unit, "QualificationConfirmSearchInfo", "ArbitraryIdentifier")


def error_of(response: Response) -> tuple[str, str]:
    header = header_of(reply_tree(response))
    assert header["SegmentOfResult"] == "9", header
    code, message = header["ErrorCode"], header["ErrorMessage"]
    assert isinstance(code, str)
    assert isinstance(message, str)
    return code, message


# --- upload -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["Shift_JIS", "UTF-8"])
def test_upload_answers_reception_number_and_time(make_gateway: GatewayFactory, encoding: str) -> None:
    gateway = make_gateway()
    install(gateway, pace="1h")
    response = upload(gateway, [record(ident="髙﨑さん")], encoding=encoding)
    assert response.extension == ".xml"
    tree = reply_tree(response)
    header = header_of(tree)
    assert header == {
        "ProcessExecutionTime": format_timestamp(FROZEN_AT),
        "MedicalInstitutionCode": MIC,
        "ArbitraryFileIdentifier": "bulk-0001",
        "SegmentOfResult": "1",
        "CharacterCodeIdentifier": "1",
    }
    body = body_of(tree)
    number = body["ReceptionNumber"]
    assert isinstance(number, str)
    assert len(number) == 20
    assert number.isdigit()
    assert body["ReceptionDateTime"] == format_timestamp(FROZEN_AT)
    second = reception_number(upload(gateway, [record()], encoding=encoding))
    assert second != number


def test_accepted_upload_is_committed_before_the_answer(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = make_gateway()
    install(gateway, pace="1h")
    number = reception_number(upload(gateway, [record(ident=f"R{i}") for i in range(3)]))
    other = SqliteRepository(tmp_path / "mockgateway.sqlite3")  # another connection sees it committed
    try:
        row = (
            other.connection()
            .execute("SELECT total, processed FROM bulk_jobs WHERE reception_number = ?", (number,))
            .fetchone()
        )
        assert tuple(row) == (3, 0)
    finally:
        other.close()


def test_not_a_bulk_request_is_refused_whole(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway)
    single = gateway.process("OQSmuquc01", _registration_file(), fmt=Format.XML, transport="test")
    code, message = error_of(single)
    assert code == "MGW1201"
    assert "QualificationConfirmSearchInfo" in message
    assert "ReferenceNumberRegistrationInfo" in message  # says what it found instead
    broken = gateway.process("OQSmuquc01", b"<XmlMsg><MessageHeader>", fmt=Format.XML, transport="test")
    assert error_of(broken)[0] == "MGW1001"
    no_mic = upload(gateway, [record()], mic="")
    assert error_of(no_mic)[0] == "MGW1003"
    assert feature.jobs.jobs() == []  # nothing was accepted


def _registration_file() -> bytes:
    tree: Tree = {
        "MessageHeader": {"MedicalInstitutionCode": MIC},
        "MessageBody": {"ReferenceNumberRegistrationInfo": {"ReferenceNumber": "1", "InsurerNumber": "06139992"}},
    }
    return xmlcodec.render("XmlMsg", tree, "Shift_JIS")


def test_record_limit_is_a_clear_error(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway, max_records=5)
    assert reception_number(upload(gateway, [record()] * 5))
    code, message = error_of(upload(gateway, [record()] * 6))
    assert code == "MGW1202"
    assert "6件" in message
    assert "上限 5件" in message
    assert len(feature.jobs.jobs()) == 1


def test_file_size_limit_is_a_clear_error(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway, max_file_bytes=2_000)
    raw = upload_bytes([record(ident=f"R{i}") for i in range(20)])
    assert len(raw) > 2_000
    response = gateway.process("OQSmuquc01", raw, fmt=Format.XML, transport="test")
    code, message = error_of(response)
    assert code == "MGW1009"
    assert "2000" in message
    assert reply_tree(response)["MessageBody"] == ""
    assert feature.jobs.jobs() == []


# --- processing and download ------------------------------------------------------------------------------------


def test_polling_while_processing_then_success(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    clock = FakeTime()
    feature = install(gateway, pace="2s+10/s", time_source=clock)
    records = [record(ident=f"R{i:03d}") for i in range(40)]
    number = reception_number(upload(gateway, records))

    def poll() -> Tree:
        feature.worker.run_once()
        return reply_tree(download(gateway, number))

    tree = poll()
    header = header_of(tree)
    assert header["SegmentOfResult"] == "2"
    assert header["ReceptionNumber"] == number
    assert "NumberOfProcessingResult" not in header
    assert tree["MessageBody"] == ""  # <MessageBody></MessageBody>
    clock.advance(3)  # 2 s delay, then 10 records per second
    assert header_of(poll())["SegmentOfResult"] == "2"
    status = feature.status(number)
    assert status is not None
    assert (status["processed"], status["done"]) == (10, False)
    clock.advance(3)
    tree = poll()
    header = header_of(tree)
    assert header["SegmentOfResult"] == "1"
    assert header["NumberOfProcessingResult"] == "40"
    assert header["NumberOfNormalProcessing"] == "40"
    assert header["NumberOfError"] == "0"
    assert header["ArbitraryFileIdentifier"] == "bulk-0001"
    assert header["QualificationConfirmationDate"] == TODAY
    assert [ident_of(u) for u in units_of(tree)] == [f"R{i:03d}" for i in range(40)]


def _persona_records() -> list[Record]:
    """Every qualification of every default persona, as printed on the card."""
    data = load_paths([DEFAULT_FIXTURES], FROZEN_AT.date())
    out = []
    for person in data.persons.values():
        for q in person.qualifications:
            out.append(
                record(
                    insurer=q.insurer.number.padded,
                    symbol=q.key.symbol or None,
                    number=q.key.number,
                    branch=q.key.branch or None,
                    birthdate=person.birthdate.strftime("%Y%m%d"),
                )
            )
    out.append(record(insurer="31139991", symbol="88", number="777", branch=None, birthdate="20180612"))  # twins: 5
    out.append(record(number="999999"))  # nobody: 4
    return out


INVALID: dict[int, tuple[Record | str, str]] = {  # position → (record, element the error names)
    3: (record(insurer="06139993"), "InsurerNumber"),  # check digit
    17: (record(number=None), "InsuredIdentificationNumber"),  # missing number
    29: (record(birthdate="20250231"), "Birthdate"),  # no such date
    41: (record(insurer="139998", symbol="模擬市", number="100234", birthdate="19650203"), "InsurerNumber"),  # unpadded
    55: (record(branch="1"), "InsuredBranchNumber"),
    68: (record(birthdate=None), "Birthdate"),
    77: (record(consent="9"), "LimitApplicationCertificateRelatedConsFlg"),
    90: ("壊れたレコード", "QualificationConfirmSearchInfo[91]"),  # text instead of child elements
    99: (record(insurer="  12345"), "InsurerNumber"),
}


def mixed_records() -> list[Node]:
    good = _persona_records()
    out: list[Node] = []
    for i in range(100):
        bad = INVALID.get(i)
        if bad is not None:
            item = bad[0]
            out.append({**item, "ArbitraryIdentifier": f"K{i:03d}"} if isinstance(item, dict) else item)
        else:
            out.append({**good[i % len(good)], "ArbitraryIdentifier": f"K{i:03d}"})
    return out


@pytest.mark.parametrize("encoding", ["Shift_JIS", "UTF-8"])
def test_hundred_records_mixed_validity_and_errors(make_gateway: GatewayFactory, encoding: str) -> None:
    gateway = make_gateway()
    feature = install(gateway)
    gateway.settings.output_encoding = encoding
    records = mixed_records()
    raw = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, MIC, [{}], file_identifier="mixed"), encoding)
    tree = xmlcodec.parse(raw).tree
    body = tree["MessageBody"]
    assert isinstance(body, dict)
    body["QualificationConfirmSearchInfo"] = records
    raw = xmlcodec.render("XmlMsg", tree, encoding)
    number = reception_number(gateway.process("OQSmuquc01", raw, fmt=Format.XML, transport="test"))
    feature.worker.run_once()
    response = download(gateway, number, encoding=encoding)
    assert response.body.startswith(f'<?xml version="1.0" encoding="{encoding}" standalone="no"?>'.encode())
    result = reply_tree(response)
    header = header_of(result)
    assert (header["NumberOfProcessingResult"], header["NumberOfNormalProcessing"], header["NumberOfError"]) == (
        "100", str(100 - len(INVALID)), str(len(INVALID)),
    )  # fmt: skip
    assert header["CharacterCodeIdentifier"] == ("1" if encoding == "Shift_JIS" else "0")
    units = units_of(result)
    assert len(units) == 100
    validities: set[str] = set()
    for i, (sent, unit) in enumerate(zip(records, units, strict=True)):
        bad = INVALID.get(i)
        if bad is not None:
            assert unit["ProcessingResultStatus"] == "2", unit
            assert unit["ProcessingResultCode"] == "MGW2003"
            message = unit["ProcessingResultMessage"]
            assert isinstance(message, str)
            assert f"QualificationConfirmSearchInfo[{i + 1}]" in message
            assert bad[1] in message
            assert "QualificationValidity" not in unit
            continue
        assert isinstance(sent, dict)
        assert unit["QualificationConfirmSearchInfo"] == sent  # echoed as sent, ArbitraryIdentifier included
        assert unit["ProcessingResultStatus"] == "1"
        assert "ProcessingResultCode" not in unit
        _assert_same_as_single_query(gateway, sent, unit)
        validity = unit["QualificationValidity"]
        assert isinstance(validity, str)
        validities.add(validity)
    assert validities == {"1", "2", "3", "4", "5"}


def _assert_same_as_single_query(gateway: Gateway, sent: Mapping[str, Node], unit: Tree) -> None:
    """A bulk unit says what the single 資格確認 says for the same card, on the same date."""

    def get(name: str) -> str | None:
        value = sent.get(name)
        return value if isinstance(value, str) else None

    raw = eligibility_request(
        insurer=get("InsurerNumber"), symbol=get("InsuredCardSymbol"), number=get("InsuredIdentificationNumber"),
        branch=get("InsuredBranchNumber"), birthdate=get("Birthdate"),
    )  # fmt: skip
    single = reply_tree(gateway.process("OQSsiquc01", raw, fmt=Format.XML, transport="test"))
    single_body = body_of(single)
    assert unit["QualificationValidity"] == single_body["QualificationValidity"]
    result_list = single_body.get("ResultList")
    expected: list[Tree] = []
    if isinstance(result_list, dict):
        found = result_list["ResultOfQualificationConfirmation"]
        expected = [r for r in (found if isinstance(found, list) else [found]) if isinstance(r, dict)]
    got = unit.get("ResultOfQualificationConfirmation")
    got_list = [] if got is None else got if isinstance(got, list) else [got]
    assert len(got_list) == len(expected)
    for bulk_result, single_result in zip(got_list, expected, strict=True):
        assert isinstance(bulk_result, dict)
        assert bulk_result == {k: v for k, v in single_result.items() if k in bulk_result}
        assert bulk_result["InsurerNumber"] == single_result["InsurerNumber"]
        assert "ArbitraryIdentifier" not in bulk_result


def test_header_date_is_the_confirmation_date(make_gateway: GatewayFactory) -> None:
    """Pre-checking tomorrow: mirai-goro's qualification starts tomorrow, so it is valid then."""
    gateway = make_gateway()
    feature = install(gateway)
    mirai = record(insurer="31139991", symbol="88", number="501", birthdate="20000505")
    today = reception_number(upload(gateway, [mirai]))
    tomorrow = reception_number(upload(gateway, [mirai], date="20250619"))
    feature.worker.run_once()
    for number, date, validity in ((today, TODAY, "4"), (tomorrow, "20250619", "1")):
        tree = reply_tree(download(gateway, number))
        assert header_of(tree)["QualificationConfirmationDate"] == date
        assert units_of(tree)[0]["QualificationValidity"] == validity


def test_download_as_zip_holding_the_xml(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway, result_format="zip")
    number = reception_number(upload(gateway, [record(ident="Z1"), record(number="999999", ident="Z2")]))
    feature.worker.run_once()
    response = download(gateway, number)
    assert response.extension == ".zip"
    assert response.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.body)) as archive:
        assert archive.namelist() == ["OQSmuquc02res_0002.xml"]  # the request's name, req → res
        xml = archive.read("OQSmuquc02res_0002.xml")
    assert xml.startswith(b'<?xml version="1.0" encoding="Shift_JIS" standalone="no"?>')
    tree = reply_tree(xml)
    assert header_of(tree)["NumberOfProcessingResult"] == "2"
    assert [u["QualificationValidity"] for u in units_of(tree)] == ["1", "4"]
    feature.configure(pace="1h")
    pending = download(gateway, reception_number(upload(gateway, [record()])))
    assert pending.extension == ".xml"  # 処理中 is never zipped
    assert header_of(reply_tree(pending))["SegmentOfResult"] == "2"


def test_result_file_name_inside_the_zip() -> None:
    assert bulk.result_file_name("OQSmuquc02req_20250618_0001.xml", "OQSmuquc02", "1") == (
        "OQSmuquc02res_20250618_0001.xml"
    )
    assert bulk.result_file_name(r"C:\OQS\req\OQSmuquc02req_7.xml", "OQSmuquc02", "1") == "OQSmuquc02res_7.xml"
    assert bulk.result_file_name("/oqs/OQSmuquc02", "OQSmuquc02", "123") == "OQSmuquc02res_123.xml"
    assert bulk.result_file_name(None, "OQSmuquc02", "123") == "OQSmuquc02res_123.xml"


# --- defined answers --------------------------------------------------------------------------------------------


def test_unknown_reception_number(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    install(gateway)
    code, message = error_of(download(gateway, "20250618000000999999"))
    assert code == "MGW1203"
    assert "20250618000000999999" in message
    header = header_of(reply_tree(download(gateway, "20250618000000999999")))
    assert header["ReceptionNumber"] == "20250618000000999999"
    assert header["MedicalInstitutionCode"] == MIC


def test_download_before_upload_is_unknown(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    install(gateway)
    assert error_of(download(gateway, "20250618103000000001"))[0] == "MGW1203"  # the number the next upload gets
    assert reception_number(upload(gateway, [record()])) == "20250618103000000001"


def test_reception_number_of_another_institution_is_unknown(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway)
    number = reception_number(upload(gateway, [record()]))
    feature.worker.run_once()
    code, _ = error_of(download(gateway, number, mic=OTHER_MIC))
    assert code == "MGW1203"  # not "forbidden": another clinic learns nothing about it
    assert "BulkConfirmUnit" not in download(gateway, number, mic=OTHER_MIC).body.decode("cp932")
    assert header_of(reply_tree(download(gateway, number)))["SegmentOfResult"] == "1"


def test_second_download_returns_the_same_result_by_default(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway)
    number = reception_number(upload(gateway, [record(ident="A"), record(number=None, ident="B")]))
    feature.worker.run_once()
    first, second = download(gateway, number), download(gateway, number)
    assert units_of(reply_tree(first)) == units_of(reply_tree(second))
    assert feature.status(number)["downloads"] == 2  # type: ignore[index]


def test_second_download_refused_when_configured(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway, redownload=False)
    number = reception_number(upload(gateway, [record()]))
    assert header_of(reply_tree(download(gateway, number)))["SegmentOfResult"] == "2"  # polls don't count
    feature.worker.run_once()
    assert header_of(reply_tree(download(gateway, number)))["SegmentOfResult"] == "1"
    code, message = error_of(download(gateway, number))
    assert code == "MGW1205"
    assert number in message


def test_expired_after_retention(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway, retention_seconds=3600)
    number = reception_number(upload(gateway, [record()]))
    feature.worker.run_once()
    gateway.clock.advance(dt.timedelta(seconds=3599))
    assert header_of(reply_tree(download(gateway, number)))["SegmentOfResult"] == "1"
    gateway.clock.advance(dt.timedelta(seconds=2))
    code, message = error_of(download(gateway, number))
    assert code == "MGW1204"
    assert number in message
    assert feature.status(number)["expired"] is True  # type: ignore[index]
    assert feature.jobs.results(feature.jobs.get(number)) == b""  # type: ignore[arg-type]
    assert error_of(download(gateway, number))[0] == "MGW1204"  # the tombstone keeps answering "expired"


def test_settings_survive_a_restart(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = make_gateway()
    install(gateway, pace="5s+20/s", max_records=7, result_format="zip")
    again = make_gateway(db=tmp_path / "mockgateway.sqlite3", personas=False)
    reference_numbers.install(again)
    bulk.install(again)
    feature = bulk.feature(again)
    assert feature is not None
    assert str(feature.settings.pace) == "5s+20/s"
    assert feature.settings.max_records == 7
    assert feature.settings.result_format == "zip"
    with pytest.raises(ValueError, match="unknown bulk setting 'speed'"):
        feature.configure(speed=3)


# --- durability within one process ------------------------------------------------------------------------------


def test_restart_mid_job_completes_every_record_once(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """The in-process half of the durability story (tests/test_bulk_durability.py kills a real process)."""
    gateway = make_gateway()
    clock = FakeTime()
    feature = install(gateway, pace="10/s", chunk=3, time_source=clock)
    number = reception_number(upload(gateway, [record(ident=f"R{i:02d}") for i in range(50)]))
    clock.advance(2.05)
    feature.worker.run_once()
    assert feature.status(number)["processed"] == 20  # type: ignore[index]
    gateway.store.close()  # "crash": drop everything in memory

    restarted = make_gateway(db=tmp_path / "mockgateway.sqlite3", personas=False)
    again = install(restarted, pace="10/s", time_source=clock)
    assert again.status(number)["processed"] == 20  # type: ignore[index]
    clock.advance(10)  # the schedule counts from the upload: the job catches up, it does not restart
    again.worker.run_once()
    tree = reply_tree(download(restarted, number))
    idents = [ident_of(u) for u in units_of(tree)]
    assert idents == [f"R{i:02d}" for i in range(50)]


def test_background_worker_thread(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    feature = install(gateway, pace="20ms")
    for worker in gateway.workers:
        worker.start()
    try:
        assert feature.worker.running
        number = reception_number(upload(gateway, [record(ident=str(i)) for i in range(30)]))
        deadline = time.monotonic() + 30
        segment = "2"
        while segment == "2" and time.monotonic() < deadline:
            segment = str(header_of(reply_tree(download(gateway, number)))["SegmentOfResult"])
            time.sleep(0.01)
        assert segment == "1"
    finally:
        for worker in gateway.workers:
            worker.stop()
    assert not feature.worker.running


# --- the journal: polling pattern -------------------------------------------------------------------------------


def test_polling_pattern_from_the_journal(make_gateway: GatewayFactory) -> None:
    gateway = make_gateway()
    clock = FakeTime()
    feature = install(gateway, pace="1s", time_source=clock)
    number = reception_number(upload(gateway, [record()]))
    other = reception_number(upload(gateway, [record()]))
    stamps = iter([3.0, 5.0, 6.0, 9.0])
    original, uploaded = gateway.journal.record, clock.now

    def stamped(entry: Any) -> Any:  # journal times as a client polling 3, 5, 6, 9 s after the upload
        entry.real_time = uploaded + next(stamps)
        return original(entry)

    gateway.journal.record = stamped  # type: ignore[method-assign]
    download(gateway, number)
    download(gateway, number)
    clock.advance(5.5)
    feature.worker.run_once()
    download(gateway, number)
    download(gateway, number)
    gateway.journal.record = original  # type: ignore[method-assign]

    pattern = polling_pattern(gateway, number)
    assert pattern.polls == 4
    assert pattern.processing_answers == 2
    assert pattern.first_poll_delay == pytest.approx(3.0)
    assert (pattern.min_interval, pattern.median_interval, pattern.max_interval) == pytest.approx((1.0, 2.0, 3.0))
    assert pattern.downloaded
    assert pattern.polls_after_download == 1
    assert not pattern.gave_up
    assert not pattern.gave_up_early
    assert pattern.hammers(1.5)
    assert not pattern.hammers(0.5)

    quiet = polling_pattern(gateway, other)  # uploaded, never polled: the client gave up
    assert quiet.polls == 0
    assert quiet.gave_up
    assert quiet.gave_up_early is True
    assert quiet.first_poll_delay is None
