"""医療扶助 results as a vendor sees them: the res file (folder), the face file (card), the HTTP
convenience route — validity 6 and every MedicalTicketInfo element in each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockgateway.config import Config
from mockgateway.domain.model import TICKET_ELEMENTS
from mockgateway.server import Running, start_in_thread
from mockgateway.services.fujo.layout import single_request
from mockgateway.services.reader import session as face
from mockgateway.transports.folder import FolderTransport
from mockgateway.wire import xmlcodec
from tests.card.face_gateway import face_gateway
from tests.transports.conftest import free_port

MIC = "1310112345"
TODAY = "20261123"  # face_gateway's frozen clock


def request_bytes(beneficiary: str, birthdate: str) -> bytes:
    tree = single_request(MIC, TODAY, "12139994", beneficiary, birthdate, file_identifier="fujo-1")
    return xmlcodec.render("XmlMsg", tree, "Shift_JIS")


def every_element_and_six(ichiro: str, mitouroku: str) -> None:
    for name in TICKET_ELEMENTS:
        assert f"<{name}>" in ichiro, name
    assert "<QualificationValidity>1</QualificationValidity>" in ichiro
    assert "<MedicalTreatmentMonth>202611</MedicalTreatmentMonth>" in ichiro
    assert "<WelfareOfficeName>模擬市福祉事務所</WelfareOfficeName>" in ichiro
    assert "<InsuredCardClassification>A1</InsuredCardClassification>" in ichiro
    assert "<QualificationValidity>6</QualificationValidity>" in mitouroku
    assert "<PublicExpenseResultList>" not in mitouroku


def test_res_files_in_the_folder(tmp_path: Path) -> None:
    gateway = face_gateway(tmp_path / "oqs")
    try:
        folder = FolderTransport(gateway, tmp_path / "oqs", use_inotify=False)
        (folder.req / "OQSsiquc01req_0001.xml").write_bytes(request_bytes("1000017", "19600101"))
        (folder.req / "OQSsiquc01req_0002.xml").write_bytes(request_bytes("1000025", "19751111"))
        assert folder.process_pending() == 2
        read = [(folder.res / f"OQSsiquc01res_000{i}.xml").read_bytes().decode("cp932") for i in (1, 2)]
        every_element_and_six(*read)
    finally:
        gateway.store.close()


def test_face_files_by_card(tmp_path: Path) -> None:
    gateway = face_gateway(tmp_path / "oqs")
    try:
        face.use_folder(gateway, tmp_path / "oqs" / "face")
        ichiro = face.place(gateway, "fujo-ichiro")
        mitouroku = face.place(gateway, "fujo-mitouroku")
        assert ichiro.face_path is not None
        assert mitouroku.face_path is not None
        every_element_and_six(ichiro.face_path.read_bytes().decode("cp932"),
                              mitouroku.face_path.read_bytes().decode("cp932"))  # fmt: skip
        assert "<ReferenceClassification>1</ReferenceClassification>" in ichiro.face_path.read_bytes().decode("cp932")
        # a 医療券 for another 医療機関 does not count at this one: 6 there
        other = face.place(gateway, "fujo-ichiro", medical_institution="1311234569")
        assert other.body is not None
        assert b"<QualificationValidity>6</QualificationValidity>" in other.body
    finally:
        gateway.store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root: Path = tmp_path_factory.mktemp("oqs")
    config = Config(root=root, http_port=free_port(), tls_port=None, folder=False, admin_token="fujo-token")
    running = start_in_thread(config)
    yield running
    running.stop()
    running.stopped.wait(10)


def test_convenience_route(server: Running) -> None:
    base = f"http://127.0.0.1:{server.config.http_port}"
    headers = {"X-Admin-Token": "fujo-token"}
    assert requests.post(f"{base}/admin/clock", json={"now": "20261123100000", "running": False}, headers=headers,
                         timeout=10).status_code == 200  # fmt: skip
    assert requests.post(f"{base}/admin/reset", headers=headers, timeout=30).status_code == 200
    answers = [
        requests.post(f"{base}/oqs/OQSsiquc01", data=request_bytes(b, d), timeout=30)
        for b, d in (("1000017", "19600101"), ("1000025", "19751111"))
    ]
    assert all(a.status_code == 200 for a in answers)
    every_element_and_six(*(a.content.decode("cp932") for a in answers))
    wrong = requests.post(f"{base}/oqs/OQSsiquc01", timeout=30, data=xmlcodec.render(
        "XmlMsg", single_request(MIC, TODAY, "12139995", "1000017", "19600101"), "Shift_JIS"))  # fmt: skip
    text = wrong.content.decode("cp932")
    assert "<SegmentOfResult>9</SegmentOfResult>" in text
    assert "PublicExpenseNumber" in text
