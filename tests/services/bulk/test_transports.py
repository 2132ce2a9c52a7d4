"""The bulk two-step through the folder transport: files in `req`, answers in `res`."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from mockgateway.services import reference_numbers
from mockgateway.services.bulk import service as bulk
from mockgateway.services.bulk.layout import CONFIRM, download_tree, upload_tree
from mockgateway.transports.folder import FolderTransport
from mockgateway.wire import xmlcodec
from tests.conftest import MIC, GatewayFactory

CARD = {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "42",
        "InsuredBranchNumber": "00", "Birthdate": "19900909"}  # fmt: skip


def test_folder_upload_poll_and_zip_download(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    gateway = make_gateway()
    reference_numbers.install(gateway)
    bulk.install(gateway)
    feature = bulk.feature(gateway)
    assert feature is not None
    feature.configure(pace="1h", result_format="zip")
    folder = FolderTransport(gateway, tmp_path / "oqs", use_inotify=False)
    records = [{**CARD, "ArbitraryIdentifier": f"F{i}"} for i in range(3)]
    upload = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, MIC, records, file_identifier="F-1"), "Shift_JIS")
    (folder.req / "OQSmuquc01req_202506180001.xml").write_bytes(upload)
    assert folder.process_pending() == 1
    answer = xmlcodec.parse((folder.res / "OQSmuquc01res_202506180001.xml").read_bytes()).tree
    number = xmlcodec.text_at(answer, "MessageBody", "ReceptionNumber")
    assert number is not None

    poll = xmlcodec.render("XmlMsg", download_tree(MIC, number), "Shift_JIS")
    (folder.req / "OQSmuquc02req_202506180002.xml").write_bytes(poll)
    assert folder.process_pending() == 1
    pending = xmlcodec.parse((folder.res / "OQSmuquc02res_202506180002.xml").read_bytes()).tree
    assert xmlcodec.text_at(pending, "MessageHeader", "SegmentOfResult") == "2"

    feature.configure(pace="instant")  # a new pace applies to new jobs; this one is 1 h: move its clock
    feature.real_time = feature.worker.real_time = lambda: 1e12
    feature.worker.run_once()
    (folder.req / "OQSmuquc02req_202506180003.xml").write_bytes(poll)
    assert folder.process_pending() == 1
    assert not (folder.res / "OQSmuquc02res_202506180003.xml").exists()
    with zipfile.ZipFile(io.BytesIO((folder.res / "OQSmuquc02res_202506180003.zip").read_bytes())) as archive:
        assert archive.namelist() == ["OQSmuquc02res_202506180003.xml"]
        result = xmlcodec.parse(archive.read("OQSmuquc02res_202506180003.xml")).tree
    assert xmlcodec.text_at(result, "MessageHeader", "NumberOfProcessingResult") == "3"
    assert xmlcodec.text_at(result, "MessageHeader", "ArbitraryFileIdentifier") == "F-1"
