"""The client adapters on their own: timeouts and broken reports say what happened and what to do."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockgateway.harness.adapters import (
    AdapterError,
    CommandAdapter,
    Environment,
    FolderAdapter,
    parse_capabilities,
    report_from_tree,
)
from mockgateway.harness.orders import Card, Order

ORDER = Order(
    order_id="OQS-TEST-001.1",
    scenario_id="OQS-TEST-001",
    scenario_title="試験",
    action="eligibility",
    medical_institution="1310112345",
    confirmation_date="20261123",
    cards=(Card("06139992", "7001", "33", "00", "19850101"),),
    timeout_seconds=0.2,
)


def folder_adapter(tmp_path: Path, announced: list[str]) -> FolderAdapter:
    adapter = FolderAdapter(tmp_path / "orders", grace_seconds=0.3, announce=announced.append)
    adapter.begin(Environment(root=tmp_path / "oqs", progress=lambda: "no request; req/ holds []"))
    return adapter


def test_folder_adapter_hands_over_an_order_and_reads_the_report(tmp_path: Path) -> None:
    announced: list[str] = []
    adapter = folder_adapter(tmp_path, announced)
    orders = tmp_path / "orders"

    def driver() -> None:
        path = orders / "OQS-TEST-001.1.order.json"
        while not path.exists():
            time.sleep(0.01)
        order = json.loads(path.read_text(encoding="utf-8"))
        report = {"order_id": order["order_id"], "status": "answered", "validity": "1", "results": [{"Name": "x"}]}
        (orders / "OQS-TEST-001.1.report.json").write_text(json.dumps(report), encoding="utf-8")

    thread = threading.Thread(target=driver)
    thread.start()
    performed = adapter.perform(ORDER)
    thread.join()
    assert performed.report.status == "answered"
    assert performed.report.validity == "1"
    assert not (orders / "OQS-TEST-001.1.order.json").exists()  # answered: withdrawn
    assert (orders / "done" / "OQS-TEST-001.1.report.json").exists()
    assert "保険者番号 06139992 記号 7001 番号 33 枝番 00" in announced[0]
    assert (orders / "instructions.log").read_text(encoding="utf-8").startswith("[OQS-TEST-001.1] 医療機関コード")


def test_folder_adapter_timeout_says_where_it_waited_and_what_the_gateway_saw(tmp_path: Path) -> None:
    adapter = folder_adapter(tmp_path, [])
    report = adapter.perform(ORDER).report
    assert report.status == "no-answer"
    assert report.extra == {"harness_timeout": True}
    assert "no report for order OQS-TEST-001.1 within 0.5 s" in report.message
    assert "must write OQS-TEST-001.1.report.json" in report.message
    assert "What the gateway saw since the order: no request" in report.message
    assert not (tmp_path / "orders" / "OQS-TEST-001.1.order.json").exists()  # a late driver finds nothing


def answer_when_ordered(orders: Path, text: str) -> threading.Thread:
    def driver() -> None:
        while not (orders / "OQS-TEST-001.1.order.json").exists():
            time.sleep(0.01)
        (orders / "OQS-TEST-001.1.report.json").write_text(text, encoding="utf-8")

    thread = threading.Thread(target=driver, daemon=True)
    thread.start()
    return thread


def test_folder_adapter_refuses_a_malformed_report_by_name(tmp_path: Path) -> None:
    adapter = folder_adapter(tmp_path, [])
    answer_when_ordered(tmp_path / "orders", '{"status": "ok"}').join(0)
    report = adapter.perform(ORDER).report
    assert report.status == "error"
    assert "status must be one of" in report.message


def test_folder_adapter_forgets_stale_orders_at_the_start(tmp_path: Path) -> None:
    stale = tmp_path / "orders" / "OLD.1.order.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")
    folder_adapter(tmp_path, [])
    assert not stale.exists()


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "vendor.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return f"{sys.executable} {path}"


def command_adapter(command: str, tmp_path: Path) -> CommandAdapter:
    adapter = CommandAdapter.from_string(command, grace_seconds=0.5)
    adapter.begin(Environment(root=tmp_path / "oqs", http="http://127.0.0.1:1"))
    return adapter


def test_command_adapter_passes_the_order_and_environment(tmp_path: Path) -> None:
    command = script(
        tmp_path,
        """
        import json, os, sys
        order = json.load(sys.stdin)
        print(json.dumps({"order_id": order["order_id"], "status": "answered", "message":
            os.environ["MOCKGATEWAY_ROOT"] + " " + os.environ["MOCKGATEWAY_HTTP"] + " " + order["card"]["number"]}))
        """,
    )
    report = command_adapter(command, tmp_path).perform(ORDER).report
    assert report.status == "answered"
    assert report.message == f"{tmp_path / 'oqs'} http://127.0.0.1:1 33"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ("import sys; print('boom', file=sys.stderr); sys.exit(3)", "error", "exited with status 3; stderr: boom"),
        ("print('not json')", "error", "stdout is not one JSON report: 'not json'"),
        ("import json; print(json.dumps({'status': 'maybe'}))", "error", "report: status must be one of"),
        ("import time; time.sleep(5)", "no-answer", "did not finish within 0.7 s"),
    ],
)
def test_command_adapter_reports_a_broken_command(tmp_path: Path, body: str, status: str, message: str) -> None:
    report = command_adapter(script(tmp_path, body), tmp_path).perform(ORDER).report
    assert report.status == status
    assert message in report.message


def test_command_adapter_missing_program_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="was not found"):
        command_adapter("/nonexistent/vendor-driver", tmp_path).perform(ORDER)
    with pytest.raises(AdapterError, match="needs a command"):
        CommandAdapter.from_string("  ")


def test_capabilities_are_checked_by_name() -> None:
    assert parse_capabilities("eligibility, bulk") == {"eligibility", "bulk"}
    assert "face" in parse_capabilities("all")
    assert parse_capabilities("bulk,card") == {"bulk", "face", "card-reader", "certificate"}
    assert parse_capabilities(None) == {"eligibility"}
    with pytest.raises(AdapterError, match=r"unknown capabilities \['teleport'\]"):
        parse_capabilities("eligibility,teleport")


def test_the_reference_reading_of_a_result_tree() -> None:
    tree = {
        "MessageHeader": {"SegmentOfResult": "9", "ErrorCode": "E1", "ErrorMessage": "だめ"},
        "MessageBody": {
            "QualificationValidity": "2",
            "ResultList": {"ResultOfQualificationConfirmation": [{"Name": "a", "Info": {"X": "1"}}, {"Name": "b"}]},
        },
    }
    report = report_from_tree("o.1", tree, request_file="q", result_file="r")
    assert (report.segment, report.error_code, report.error_message, report.validity) == ("9", "E1", "だめ", "2")
    assert report.results == ({"Name": "a", "Info": '{"X": "1"}'}, {"Name": "b"})


@pytest.mark.parametrize("kind", ["reference", "fake vendor command"])
def test_a_face_order_shows_the_newest_card_reader_result(tmp_path: Path, kind: str) -> None:
    from dataclasses import replace

    from mockgateway.harness.adapters import ReferenceAdapter
    from mockgateway.wire import xmlcodec

    face = tmp_path / "oqs" / "face"
    face.mkdir(parents=True)
    for i, name in enumerate(["古い　結果", "保険　太郎"]):
        tree = {
            "MessageHeader": {"SegmentOfResult": "1", "ReferenceClassification": "1"},
            "MessageBody": {
                "QualificationValidity": "1",
                "ResultList": {"ResultOfQualificationConfirmation": {"Name": name, "InsurerNumber": "01139997"}},
            },
        }
        path = face / f"OQSsiquc01res_face_{i}.xml"
        path.write_bytes(xmlcodec.render("XmlMsg", tree, "Shift_JIS"))
        os.utime(path, ns=(i * 10**9, i * 10**9))
    adapter: Any = (
        ReferenceAdapter()
        if kind == "reference"
        else CommandAdapter.from_string(f"{sys.executable} {Path(__file__).with_name('fake_vendor.py')} command")
    )
    adapter.begin(Environment(root=tmp_path / "oqs"))
    order = replace(ORDER, action="face", cards=(), gateway={"root": str(tmp_path / "oqs")})
    report = adapter.perform(order).report
    assert (report.status, report.validity, report.result_file) == ("answered", "1", "OQSsiquc01res_face_1.xml")
    assert report.results[0]["Name"] == "保険　太郎"
    assert "face フォルダに届いたもの" in order.instruction()


def test_a_zip_result_is_read_as_the_xml_it_holds() -> None:
    import io
    import zipfile

    from mockgateway.harness.adapters import read_result_file
    from mockgateway.harness.outcome import parse_any

    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<XmlMsg><MessageHeader><SegmentOfResult>1</SegmentOfResult></MessageHeader></XmlMsg>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OQSmuquc02res_1.xml", xml)
    assert read_result_file(buffer.getvalue()) == xml.encode()
    assert read_result_file(xml.encode()) == xml.encode()
    assert parse_any(buffer.getvalue())["MessageHeader"] == {"SegmentOfResult": "1"}
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.xml", xml)
        archive.writestr("b.xml", xml)
    with pytest.raises(zipfile.BadZipFile, match="holds one XML file"):
        read_result_file(two.getvalue())


@pytest.fixture
def webapi(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """The catalogue's TLS Web API (a test PKI, client certificates verified) serving a gateway with
    the default personas."""
    from mockgateway.app import build_gateway
    from mockgateway.certs.institution_pki import TestPKI
    from mockgateway.config import Config
    from mockgateway.harness.http import CatalogueHttp

    pki = TestPKI.init(tmp_path / "pki")
    listener = CatalogueHttp(pki=pki).start()
    gateway = build_gateway(Config(root=tmp_path / "oqs", tls_port=None))
    try:
        with listener.serving(gateway):
            yield listener, gateway
    finally:
        listener.stop()
        gateway.store.close()


def webapi_order(listener: Any, status: str = "valid", **changes: Any) -> Order:
    from dataclasses import replace

    cert = listener.pki.issue_client("1310112345", status, check_code=False)
    access = {"url": listener.url, "ca": str(listener.pki.ca_cert), "client_cert": str(cert.cert)}
    access.update(client_key=str(cert.key), login_url=listener.url, search_url=listener.search_url)
    base = replace(ORDER, action="webapi-eligibility", timeout_seconds=10.0, gateway={"webapi": access})
    return replace(base, **changes)


def test_a_web_api_order_logs_in_with_the_client_certificate_and_shows_the_result(
    tmp_path: Path, webapi: tuple[Any, Any]
) -> None:
    from mockgateway.harness.adapters import ReferenceAdapter

    listener, gateway = webapi
    adapter = ReferenceAdapter()
    env = Environment(
        tmp_path / "oqs", webapi=listener.url, webapi_search=listener.search_url, pki=listener.pki.directory
    )
    adapter.begin(env)
    card = Card("01139997", "12-34", "5678", "00", "19800401")
    report = adapter.perform(webapi_order(listener, cards=(card,))).report
    assert (report.status, report.segment, report.validity) == ("answered", "1", "1")
    assert report.results[0]["Name"] == "保険　太郎"
    entries = gateway.journal.entries()
    assert [(e.transport, e.api_id, e.medical_institution) for e in entries] == [
        ("webapi", "auth", "1310112345"),
        ("webapi", "OQSsiquc01", "1310112345"),
    ]
    assert b'"InsurerNumber":"01139997"' in entries[-1].request


def test_a_web_api_login_refused_at_the_handshake_is_the_clients_error(tmp_path: Path, webapi: tuple[Any, Any]) -> None:
    from mockgateway.harness.adapters import ReferenceAdapter

    listener, gateway = webapi
    adapter = ReferenceAdapter()
    adapter.begin(Environment(root=tmp_path / "oqs"))
    report = adapter.perform(webapi_order(listener, "expired")).report
    assert report.status == "error"
    assert report.message.startswith("Web API にログインできませんでした")
    assert report.extra == {"refused": "login"}
    assert gateway.journal.entries() == []  # nothing got past the handshake


def test_a_web_api_order_without_a_web_api_is_an_error(tmp_path: Path) -> None:
    from dataclasses import replace

    from mockgateway.harness.adapters import ReferenceAdapter

    adapter = ReferenceAdapter()
    adapter.begin(Environment(root=tmp_path / "oqs"))
    report = adapter.perform(replace(ORDER, action="webapi-eligibility")).report
    assert report.status == "error"
    assert "gateway.webapi" in report.message


def test_command_adapter_tells_where_the_web_api_and_its_pki_are(tmp_path: Path) -> None:
    command = script(
        tmp_path,
        """
        import json, os, sys
        order = json.load(sys.stdin)
        print(json.dumps({"order_id": order["order_id"], "status": "answered", "message":
            os.environ["MOCKGATEWAY_WEBAPI"] + " " + os.environ["MOCKGATEWAY_PKI"]}))
        """,
    )
    adapter = CommandAdapter.from_string(command, grace_seconds=0.5)
    adapter.begin(Environment(root=tmp_path / "oqs", webapi="https://127.0.0.1:2", pki=tmp_path / "pki"))
    assert adapter.perform(ORDER).report.message == f"https://127.0.0.1:2 {tmp_path / 'pki'}"


def test_webapi_is_claimed_only_explicitly_or_with_all() -> None:
    assert "webapi" not in parse_capabilities(None)
    assert "webapi" in parse_capabilities("all")
    assert parse_capabilities("eligibility,webapi") == {"eligibility", "webapi"}
