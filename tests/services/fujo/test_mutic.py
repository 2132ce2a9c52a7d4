"""医療扶助の一括照会 (OQSmutic01/02) through `Gateway.process`: two-step, durable, bad input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockgateway.domain.model import TICKET_ELEMENTS
from mockgateway.engine import Format, Gateway, Response
from mockgateway.services import fujo
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.layout import download_tree
from mockgateway.services.fujo.layout import mutic_upload
from mockgateway.transports.folder import FolderTransport
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Node, Tree
from tests.conftest import GatewayFactory, body_of, header_of, reply_tree

MIC = "1310112345"


def install(gateway: Gateway, pace: str = "instant") -> bulk.BulkFeature:
    bulk.install(gateway)
    fujo.install(gateway)
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.configure(pace=pace)
    return feature


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Gateway:
    gw = make_gateway()
    install(gw)
    return gw


def send(gateway: Gateway, api_id: str, tree: Tree) -> Response:
    return gateway.process(api_id, xmlcodec.render("XmlMsg", tree, "Shift_JIS"), fmt=Format.XML, transport="test")


def upload(gateway: Gateway, month: str | None, mic: str = MIC) -> Tree:
    return reply_tree(send(gateway, "OQSmutic01", mutic_upload(mic, month, file_identifier="M-1")))


def units(tree: Tree) -> list[Tree]:
    node = body_of(tree).get("BulkConfirmUnit")
    items: list[Node] = node if isinstance(node, list) else [node] if node is not None else []
    return [u for u in items if isinstance(u, dict)]


def download(gateway: Gateway, number: str, mic: str = MIC) -> Tree:
    return reply_tree(send(gateway, "OQSmutic02", download_tree(mic, number)))


def test_two_steps_list_this_months_recipients_with_their_tickets(gateway: Gateway) -> None:
    accepted = upload(gateway, "202506")
    assert header_of(accepted)["SegmentOfResult"] == "1"
    number = body_of(accepted)["ReceptionNumber"]
    assert isinstance(number, str)
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.worker.run_once()
    result = download(gateway, number)
    header = header_of(result)
    assert header["SegmentOfResult"] == "1"
    assert header["ArbitraryFileIdentifier"] == "M-1"
    assert header["NumberOfProcessingResult"] == "1"  # only fujo-ichiro has a 202506 ticket here
    (unit,) = units(result)
    assert unit["QualificationConfirmSearchInfo"] == {
        "PublicExpenseNumber": "12139994", "BeneficiaryNumber": "1000017", "MedicalTreatmentMonth": "202506",
    }  # fmt: skip
    assert unit["ProcessingResultStatus"] == "1"
    assert unit["QualificationValidity"] == "1"
    result_tree = unit["ResultOfQualificationConfirmation"]
    assert isinstance(result_tree, dict)
    assert result_tree["WelfareOfficeName"] == "模擬市福祉事務所"
    info = result_tree["PublicExpenseResultList"]
    assert isinstance(info, dict)
    assert isinstance(info["MedicalTicketInfo"], dict)
    assert list(info["MedicalTicketInfo"]) == list(TICKET_ELEMENTS)


def test_last_month_lists_every_recipient_with_a_ticket_then(gateway: Gateway) -> None:
    number = body_of(upload(gateway, "202505"))["ReceptionNumber"]
    assert isinstance(number, str)
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.worker.run_once()
    found = {
        str(xmlcodec.text_at(u, "QualificationConfirmSearchInfo", "BeneficiaryNumber")): u
        for u in units(download(gateway, number))
    }
    assert sorted(found) == ["1000017", "1000025", "1000033"]
    # fujo-kokuho's assistance ended on 20250601: judged on today's date it is 3 (国保 since)
    assert found["1000033"]["QualificationValidity"] == "3"
    assert found["1000025"]["QualificationValidity"] == "1"


def test_processing_is_two_then_one_and_survives_a_restart(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    db = tmp_path / "durable.sqlite3"
    first = make_gateway(db=db)
    install(first, pace="1h")
    number = body_of(upload(first, "202506"))["ReceptionNumber"]
    assert isinstance(number, str)
    assert header_of(download(first, number))["SegmentOfResult"] == "2"
    second = make_gateway(db=db, personas=False)
    feature = install(second)
    feature.real_time = feature.worker.real_time = lambda: 1e12
    feature.worker.run_once()
    assert header_of(download(second, number))["NumberOfProcessingResult"] == "1"


@pytest.mark.parametrize(("month", "code"), [(None, "MGW1003"), ("202507", "MGW1401"), ("25-06", "MGW1401")])
def test_no_month_or_a_future_one_is_segment_nine_naming_it(gateway: Gateway, month: str | None, code: str) -> None:
    header = header_of(upload(gateway, month))
    assert header["SegmentOfResult"] == "9"
    assert header["ErrorCode"] == code
    assert "MedicalTreatmentMonth" in str(header["ErrorMessage"])


def test_a_recipient_gone_before_processing_is_a_per_record_error(gateway: Gateway) -> None:
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.configure(pace="1h")
    number = body_of(upload(gateway, "202506"))["ReceptionNumber"]
    assert isinstance(number, str)
    from mockgateway.fixtures import Dataset

    gateway.load(Dataset())  # every person removed (as a fixture reload without them would)
    feature.real_time = feature.worker.real_time = lambda: 1e12
    feature.worker.run_once()
    result = download(gateway, number)
    assert header_of(result)["NumberOfError"] == "1"
    (unit,) = units(result)
    assert unit["ProcessingResultStatus"] == "2"
    assert unit["ProcessingResultCode"] == "MGW2901"
    assert "BeneficiaryNumber" in str(unit["ProcessingResultMessage"])


def test_folder_files_in_req_and_res(gateway: Gateway, tmp_path: Path) -> None:
    folder = FolderTransport(gateway, tmp_path / "oqs", use_inotify=False)
    body = xmlcodec.render("XmlMsg", mutic_upload(MIC, "202506"), "Shift_JIS")
    (folder.req / "OQSmutic01req_0001.xml").write_bytes(body)
    assert folder.process_pending() == 1
    answer = xmlcodec.parse((folder.res / "OQSmutic01res_0001.xml").read_bytes()).tree
    number = xmlcodec.text_at(answer, "MessageBody", "ReceptionNumber")
    assert number is not None
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.worker.run_once()
    (folder.req / "OQSmutic02req_0002.xml").write_bytes(
        xmlcodec.render("XmlMsg", download_tree(MIC, number), "Shift_JIS")
    )
    assert folder.process_pending() == 1
    result = (folder.res / "OQSmutic02res_0002.xml").read_bytes()
    text = result.decode("cp932")
    assert "<QualificationValidity>1</QualificationValidity>" in text
    assert "<StatusOfInfecton>0</StatusOfInfecton>" in text
