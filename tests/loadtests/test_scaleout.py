"""`serve --workers 2`: replicas answer 資格確認 and share what the admin API changes (a real subprocess).

Each request opens its own connection, so the kernel spreads them over the primary and the replica
(SO_REUSEPORT); the assertions hold for every answer whichever process gave it. A few dozen
requests: a functional test, not a load run.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockgateway.wire import xmlcodec
from tests.conftest import eligibility_request

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scaleout-test"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, port: int, process: subprocess.Popen[bytes]) -> None:
        self.port, self.process = port, process
        self.url = f"http://127.0.0.1:{port}"

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, method="POST", headers=headers or {})
        request.add_header("Connection", "close")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def admin(self, method: str, path: str, body: object = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-Admin-Token": TOKEN, "Content-Type": "application/json"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("scaleout")
    port = _free_port()
    cmd = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--http-port", str(port),
           "--tls-port", "0", "--no-folder", "--webapi-plain", "--admin-token", TOKEN, "--workers", "2"]  # fmt: skip
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    srv = Server(port, process)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (root / "serve.log").read_text()
            try:
                srv.admin("GET", "/admin/status")
                break
            except OSError:
                time.sleep(0.2)
        _wait_for_replica(root)
        yield srv
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_replica(root: Path) -> None:
    deadline = time.monotonic() + 60
    while "mockgateway replica 1 ready" not in (root / "serve.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, (root / "serve.log").read_text(errors="replace")
        time.sleep(0.1)


def _ask(server: Server, **fields: str) -> xmlcodec.Tree:
    status, body = server.post("/oqs/OQSsiquc01", eligibility_request(**fields), {"Content-Type": "application/xml"})
    assert status == 200, body[:300]
    return xmlcodec.parse(body).tree


def _header(tree: xmlcodec.Tree) -> xmlcodec.Tree:
    header = tree["MessageHeader"]
    assert isinstance(header, dict)
    return header


def test_every_process_answers_the_same(server: Server) -> None:
    answers = {xmlcodec.text_at(_ask(server), "MessageBody", "QualificationValidity") for _ in range(30)}
    assert answers == {"1"}


def test_the_clock_set_on_the_admin_api_holds_in_every_process(server: Server) -> None:
    server.admin("POST", "/admin/clock", {"now": "20250618103000", "running": False})
    time.sleep(0.2)  # the publisher looks every 20 ms
    stamps = {_header(_ask(server)).get("ProcessExecutionTime") for _ in range(30)}
    assert stamps == {"20250618103000"}


def test_a_fault_with_a_budget_fires_exactly_that_many_times(server: Server) -> None:
    server.admin("POST", "/admin/faults", {"kind": "error", "api_id": "OQSsiquc01", "times": 3})
    time.sleep(0.2)
    segments = [_header(_ask(server)).get("SegmentOfResult") for _ in range(20)]
    assert segments.count("9") == 3
    server.admin("DELETE", "/admin/faults")


def test_an_unlimited_fault_applies_in_every_process_until_removed(server: Server) -> None:
    server.admin("POST", "/admin/faults", {"kind": "error", "api_id": "OQSsiquc01"})
    time.sleep(0.2)
    assert {_header(_ask(server)).get("SegmentOfResult") for _ in range(20)} == {"9"}
    server.admin("DELETE", "/admin/faults")
    time.sleep(0.2)
    assert {_header(_ask(server)).get("SegmentOfResult") for _ in range(20)} == {"1"}


def test_a_web_api_token_works_in_every_process_at_once(server: Server) -> None:
    status, body = server.post("/oqs-api-pro/MSA12020/ILI12020SV01/auth", b'{"MedicalInstitutionCode": "1311234569"}')
    assert status == 200
    token = json.loads(body)["result"]["idToken"]
    query = json.dumps({"XmlMsg": {
        "MessageHeader": {"QualificationConfirmationDate": "20250618", "MedicalInstitutionCode": "1311234569"},
        "MessageBody": {"QualificationConfirmSearchInfo": {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001",
                        "InsuredIdentificationNumber": "42", "InsuredBranchNumber": "00", "Birthdate": "19900909"}},
    }}).encode()  # fmt: skip
    headers = {"Authorization": token, "Content-Type": "application/json;charset=UTF-8"}
    answers = [server.post("/oqs-api-pro/MSA01030/ILI01030SV01/search", query, headers) for _ in range(20)]
    assert {status for status, _ in answers} == {200}
    assert {json.loads(b)["XmlMsg"]["MessageBody"]["QualificationValidity"] for _, b in answers} == {"1"}
    refused = server.post("/oqs-api-pro/MSA01030/ILI01030SV01/search", query, {"Authorization": "forged"})
    assert refused[0] == 401


def test_the_journal_shows_every_process_s_exchanges(server: Server) -> None:
    server.admin("DELETE", "/admin/journal")
    for _ in range(25):
        _ask(server, file_id="journal-check")
    entries = server.admin("GET", "/admin/journal")
    assert isinstance(entries, dict)
    mine = [e for e in entries["entries"] if "journal-check" in e["request"]]
    assert len(mine) == 25
    assert len({e["id"] for e in mine}) == 25


def test_admin_routes_and_other_apis_reach_the_primary(server: Server) -> None:
    statuses = {server.admin("GET", "/admin/status")["people"] for _ in range(10)}  # type: ignore[index]
    assert len(statuses) == 1
    status, body = server.post("/oqs/OQSunknown01", eligibility_request(), {"Content-Type": "application/xml"})
    assert status == 200
    assert xmlcodec.text_at(xmlcodec.parse(body).tree, "MessageHeader", "SegmentOfResult") == "9"


def test_a_journal_read_waits_for_a_replica_whose_entries_arrive_after_its_ack() -> None:
    """A queue's put reaches the reader after the sender has moved on: the primary must wait for
    each replica's message, not for its shared-memory ack (a read once showed 14 of 25 entries)."""
    import multiprocessing
    import queue
    import threading

    from mockgateway.control.journal import JournalEntry
    from mockgateway.scaleout import MergingJournal

    inbox: queue.Queue[object] = queue.Queue()
    demand, clears = multiprocessing.RawValue("Q", 0), multiprocessing.RawValue("Q", 0)
    acks, cleared = multiprocessing.RawArray("Q", 1), multiprocessing.RawArray("Q", 1)
    journal = MergingJournal(inbox, demand, acks, clears, cleared, max_entries=100, max_body_bytes=1000)
    entry = JournalEntry(id=7, at="20250618103000", real_time=0.0, transport="http", api_id="OQSsiquc01",
                         name=None, medical_institution=None, request=b"replica")  # fmt: skip

    def slow_replica() -> None:
        while demand.value == 0:
            time.sleep(0.001)
        acks[0] = demand.value  # acknowledged first …
        time.sleep(0.2)  # … the entries come later, as through a pipe's feeder thread
        inbox.put((0, demand.value, [entry]))

    threading.Thread(target=slow_replica, daemon=True).start()
    assert [e.request for e in journal.entries()] == [b"replica"]
