"""Bulk settings over the admin API and as `serve` flags: a pace changed over HTTP makes the next
job stay 処理中 (SegmentOfResult 2) for longer, seen by a client polling the convenience route.
No wall time is asserted: the test counts polls and reads states."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockgateway.cli import main
from mockgateway.config import Config
from mockgateway.harness.remote import free_port
from mockgateway.server import Running, start_in_thread
from mockgateway.services.bulk.layout import CONFIRM, download_tree, upload_tree
from mockgateway.wire import xmlcodec
from tests.conftest import MIC

TOKEN = "bulk-admin-token"
CARD = {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "42",
        "InsuredBranchNumber": "00", "Birthdate": "19900909"}  # fmt: skip


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root: Path = tmp_path_factory.mktemp("oqs")
    config = Config(root=root, http_port=free_port(), tls_port=None, admin_token=TOKEN, folder=False)
    running = start_in_thread(config)
    yield running
    running.stop()
    running.stopped.wait(10)


def _base(live: Running) -> str:
    return f"http://127.0.0.1:{live.config.http_port}"


def _admin(live: Running, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(method, _base(live) + path, headers={"X-Admin-Token": TOKEN}, timeout=30, **kwargs)  # type: ignore[arg-type]


def _upload(live: Running) -> str:
    body = xmlcodec.render("XmlMsg", upload_tree(CONFIRM, MIC, [CARD, CARD]), "Shift_JIS")
    answer = requests.post(_base(live) + "/oqs/OQSmuquc01", data=body, timeout=30)
    assert answer.status_code == 200
    number = xmlcodec.text_at(xmlcodec.parse(answer.content).tree, "MessageBody", "ReceptionNumber")
    assert number
    return number


def _poll(live: Running, number: str) -> str | None:
    body = xmlcodec.render("XmlMsg", download_tree(MIC, number), "Shift_JIS")
    answer = requests.post(_base(live) + "/oqs/OQSmuquc02", data=body, timeout=30)
    assert answer.status_code == 200
    return xmlcodec.text_at(xmlcodec.parse(answer.content).tree, "MessageHeader", "SegmentOfResult")


def _polls_while_processing(live: Running, number: str, limit: int) -> int:
    """How many polls answered 処理中 (SegmentOfResult 2) before the result came (or `limit`)."""
    for count in range(limit):
        if _poll(live, number) != "2":
            return count
        time.sleep(0.02)
    return limit


def test_pace_set_over_http_keeps_the_next_job_processing_longer(live: Running) -> None:
    assert _admin(live, "PUT", "/admin/bulk/settings", json={"pace": "instant"}).json()["pace"] == "instant"
    quick = _polls_while_processing(live, _upload(live), limit=500)
    assert quick < 500  # the instant job finished

    changed = _admin(live, "PUT", "/admin/bulk/settings", json={"pace": "1h", "max_records": 5})
    assert changed.status_code == 200
    assert (changed.json()["pace"], changed.json()["max_records"]) == ("3600s", 5)
    slow = _upload(live)
    assert _polls_while_processing(live, slow, limit=quick + 20) == quick + 20  # still 処理中
    job = _admin(live, "GET", "/admin/bulk/jobs", params={"number": slow}).json()
    assert (job["done"], job["processed"], job["total"]) == (False, 0, 2)
    assert _admin(live, "GET", "/admin/bulk/settings").json()["pace"] == "3600s"


def test_bad_settings_are_refused_in_the_interface_of_the_admin_api(live: Running) -> None:
    refused = _admin(live, "PUT", "/admin/bulk/settings", json={"pace": "soon"})
    assert refused.status_code == 400
    assert "pace 'soon'" in refused.json()["error"]
    unknown = _admin(live, "PUT", "/admin/bulk/settings", json={"speed": 1})
    assert unknown.status_code == 400
    assert "unknown bulk setting 'speed'" in unknown.json()["error"]
    assert _admin(live, "GET", "/admin/bulk/jobs", params={"number": "nope"}).status_code == 404


def test_serve_flags_set_the_bulk_settings(tmp_path: Path) -> None:
    from mockgateway.app import build_gateway
    from mockgateway.cli import parser, serve_config
    from mockgateway.services.bulk import service as bulk

    args = parser().parse_args(
        ["serve", "--root", str(tmp_path), "--tls-port", "0", "--bulk-pace=2m", "--bulk-max-records", "7",
         "--bulk-result-format", "zip", "--bulk-retention", "60", "--bulk-processes", "1"]
    )  # fmt: skip
    gateway = build_gateway(serve_config(args))
    try:
        feature = bulk.feature(gateway)
        assert feature is not None
        assert str(feature.settings.pace) == "120s"
        assert (feature.settings.max_records, feature.settings.result_format) == (7, "zip")
        assert feature.settings.retention_seconds == 60.0
        assert feature.settings.processes == 1
    finally:
        gateway.store.close()


def test_a_bad_serve_flag_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--root", str(tmp_path), "--bulk-pace", "soon"]) == 2
    assert "pace 'soon'" in capsys.readouterr().err
