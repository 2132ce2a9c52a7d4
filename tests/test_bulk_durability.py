"""`kill -9` of a real gateway process during a bulk job loses no accepted record.

The gateway runs as `python -m mockgateway serve` (HTTP convenience route only). A job is
uploaded and the process is killed with SIGKILL twice while the job is being processed; a second
job is killed right after its upload answer (01res) arrived. After each restart the jobs go on;
finally every record of both jobs is in the results exactly once, in request order.

Waiting is by bounded polling loops; nothing asserts on elapsed time.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import requests

from mockgateway.services.bulk.layout import CONFIRM, download_tree, upload_tree
from mockgateway.services.bulk.settings import STATE_KEY
from mockgateway.store.sqlite import SqliteRepository
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree

MIC = "1311234569"
TOKEN = "durability-test-token"
TIMEOUT = 90.0
RECORDS_A = 6_000  # processed at 300/s: about 20 s of work to be killed in the middle of
RECORDS_B = 300

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


class Server:
    def __init__(self, root: Path, db: Path) -> None:
        self.root, self.db = root, db
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--db", str(db),
             "--http-port", str(self.port), "--tls-port", "0", "--admin-token", TOKEN],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert self.proc.stdout is not None
        output = []
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line and self.proc.poll() is not None:
                break
            output.append(line)
            if "mockgateway ready" in line:
                return
        self.kill()
        raise AssertionError("gateway did not start:\n" + "".join(output))

    def post(self, api_id: str, tree: Tree) -> bytes:
        raw = xmlcodec.render("XmlMsg", tree, "Shift_JIS")
        response = requests.post(f"http://127.0.0.1:{self.port}/oqs/{api_id}", data=raw, timeout=60)
        response.raise_for_status()
        return response.content

    def children(self) -> set[int]:
        """The gateway's child processes now (its bulk worker processes), from /proc."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            with suppress(OSError):
                found.update(int(pid) for pid in (task / "children").read_text().split())
        return found

    def kill(self) -> None:
        children = self.children()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        # Worker processes never outlive the gateway (they would hold the store open meanwhile).
        _wait(lambda: not any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in children),
              f"the killed gateway's worker processes {sorted(children)} to exit")  # fmt: skip
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@contextmanager
def serving(root: Path, db: Path) -> Iterator[Server]:
    server = Server(root, db)
    try:
        yield server
    finally:
        server.kill()


def _records(prefix: str, count: int) -> list[dict[str, str]]:
    cards = [  # default personas: takasaki-sakiko, gendo-kenji, hoken-taro, kouki-ume
        {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "42",
         "InsuredBranchNumber": "00", "Birthdate": "19900909"},
        {"InsurerNumber": "06139992", "InsuredCardSymbol": "7001", "InsuredIdentificationNumber": "77",
         "InsuredBranchNumber": "00", "Birthdate": "19720520"},
        {"InsurerNumber": "01139997", "InsuredCardSymbol": "12-34", "InsuredIdentificationNumber": "5678",
         "InsuredBranchNumber": "00", "Birthdate": "19800401"},
        {"InsurerNumber": "39139993", "InsuredIdentificationNumber": "12345678", "Birthdate": "19400110"},
        {"InsurerNumber": "06139993", "InsuredIdentificationNumber": "1", "Birthdate": "19400110"},  # check digit
    ]  # fmt: skip
    return [{**cards[i % len(cards)], "ArbitraryIdentifier": f"{prefix}{i:05d}"} for i in range(count)]


def _reception_number(body: bytes) -> str:
    tree = xmlcodec.parse(body).tree
    number = xmlcodec.text_at(tree, "MessageBody", "ReceptionNumber")
    assert number, body.decode("cp932", "replace")
    return number


def _processed(db: Path, number: str) -> tuple[int, int]:
    """Progress as committed, read from the store by another connection (WAL readers never block)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute("SELECT processed, total FROM bulk_jobs WHERE reception_number = ?", (number,)).fetchone()
    assert row is not None, f"job {number} is not in the store"
    return int(row[0]), int(row[1])


def _identifiers(body: bytes) -> tuple[Tree, list[str]]:
    tree = xmlcodec.parse(body).tree
    header = tree["MessageHeader"]
    assert isinstance(header, dict)
    message = tree["MessageBody"]
    assert isinstance(message, dict)
    units = message["BulkConfirmUnit"]
    assert isinstance(units, list)
    out = []
    for unit in units:
        assert isinstance(unit, dict)
        ident = xmlcodec.text_at(unit, "QualificationConfirmSearchInfo", "ArbitraryIdentifier")
        assert ident is not None
        out.append(ident)
    return header, out


@pytest.mark.parametrize("processes", [1, 2], ids=["worker-thread", "two-worker-processes"])
def test_kill_9_during_processing_loses_no_accepted_record(tmp_path: Path, processes: int) -> None:
    """With two worker processes chunks are stored out of order, so a kill can leave chunks
    stored beyond `processed`; they are kept, the gaps are processed after the restart."""
    root, db = tmp_path / "oqs", tmp_path / "gateway.sqlite3"
    store = SqliteRepository(db)  # settings written before the first start, as an operator would
    store.set_state(STATE_KEY, {"pace": "300/s", "chunk": 20, "processes": processes})
    store.close()
    sent_a, sent_b = _records("A", RECORDS_A), _records("B", RECORDS_B)

    with serving(root, db) as server:
        job_a = _reception_number(server.post("OQSmuquc01", upload_tree(CONFIRM, MIC, sent_a)))
        _wait(lambda: _processed(db, job_a)[0] >= 200, "job A to be under way")
        if processes > 1:
            _wait(server.children, "worker processes")  # the job is being judged in them
        server.kill()  # kill -9 #1, in the middle of job A
    first_kill = _processed(db, job_a)[0]
    assert 0 < first_kill < RECORDS_A

    with serving(root, db) as server:
        _wait(lambda: _processed(db, job_a)[0] > first_kill, "job A to go on after the restart")
        job_b = _reception_number(server.post("OQSmuquc01", upload_tree(CONFIRM, MIC, sent_b)))
        server.kill()  # kill -9 #2, right after job B's upload answer, job A still running
    second_kill = _processed(db, job_a)[0]
    assert first_kill < second_kill < RECORDS_A, "job A finished before the second kill: slow the pace"
    assert _processed(db, job_b)[1] == RECORDS_B  # the answered upload was durable

    with serving(root, db) as server:
        results = {}
        for number in (job_a, job_b):
            request = download_tree(MIC, number)

            def fetched(request: Tree = request) -> bytes | None:
                body = server.post("OQSmuquc02", request)
                segment = xmlcodec.text_at(xmlcodec.parse(body).tree, "MessageHeader", "SegmentOfResult")
                assert segment in {"1", "2"}, body.decode("cp932", "replace")[:500]
                return body if segment == "1" else None

            results[number] = _wait(fetched, f"the result of {number}")

    for number, sent in ((job_a, sent_a), (job_b, sent_b)):
        header, identifiers = _identifiers(results[number])
        assert identifiers == [r["ArbitraryIdentifier"] for r in sent]  # every record, once, in order
        errors = sum(1 for r in sent if r["InsurerNumber"] == "06139993")
        assert header["NumberOfProcessingResult"] == str(len(sent))
        assert header["NumberOfError"] == str(errors)
        assert header["NumberOfNormalProcessing"] == str(len(sent) - errors)
