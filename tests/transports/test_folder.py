"""The folder transport against real folders, a real SQLite file and the default personas.

Every wait is a polling loop with a generous deadline; nothing asserts on elapsed time.
"""

from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.control.faults import FaultRule
from mockgateway.domain.clock import jst
from mockgateway.engine import Gateway
from mockgateway.transports.folder import FolderTransport
from mockgateway.transports.folder_files import (
    ContainerError,
    explain_name,
    is_ignored,
    parse_request_name,
    unique_path,
    unzip_single_xml,
)
from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree

MIC = "1310112345"
OTHER_MIC = "1311234569"
TIMEOUT = 10.0


def request(
    *,
    mic: str = MIC,
    number: str = "5678",
    file_id: str = "F0001",
    encoding: str = "Shift_JIS",
) -> bytes:
    """資格確認要求 for hoken-taro (保険　太郎): 有効 on 2026-11-23."""
    text = (
        f'<?xml version="1.0" encoding="{encoding}" standalone="no"?>\n'
        "<XmlMsg><MessageHeader>"
        "<QualificationConfirmationDate>20261123</QualificationConfirmationDate>"
        f"<MedicalInstitutionCode>{mic}</MedicalInstitutionCode>"
        f"<ArbitraryFileIdentifier>{file_id}</ArbitraryFileIdentifier>"
        "</MessageHeader><MessageBody><QualificationConfirmSearchInfo>"
        "<InsurerNumber>01139997</InsurerNumber>"
        "<InsuredCardSymbol>12-34</InsuredCardSymbol>"
        f"<InsuredIdentificationNumber>{number}</InsuredIdentificationNumber>"
        "<InsuredBranchNumber>00</InsuredBranchNumber>"
        "<Birthdate>19800401</Birthdate>"
        "<LimitApplicationCertificateRelatedConsFlg>0</LimitApplicationCertificateRelatedConsFlg>"
        "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>\n"
    )
    return text.encode("cp932" if xmlcodec.is_shift_jis(encoding) else "utf-8")


def header(body: bytes) -> Tree:
    parsed = xmlcodec.parse(body)
    assert parsed.root == "XmlMsg"
    node = parsed.tree["MessageHeader"]
    assert isinstance(node, dict)
    return node


def body_of(data: bytes) -> Tree:
    node = xmlcodec.parse(data).tree["MessageBody"]
    assert isinstance(node, dict)
    return node


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def drop(folder: Path, name: str, data: bytes) -> None:
    """As clients should: write under a dot name, then rename into req."""
    temp = folder / f".{name}.part"
    temp.write_bytes(data)
    os.replace(temp, folder / name)


def names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def inotify_works() -> bool:
    import inotify_simple

    try:
        inotify_simple.INotify().close()
    except (OSError, AttributeError):
        return False
    return True


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = build_gateway(Config(root=tmp_path))
    gw.clock.set(jst(2026, 11, 23, 10), running=False)
    gw.reload()  # the index resolves "today" against the clock
    yield gw
    gw.store.close()


TransportFactory = Callable[..., FolderTransport]


@pytest.fixture
def make_transport(gateway: Gateway, tmp_path: Path) -> Iterator[TransportFactory]:
    made: list[FolderTransport] = []

    def make(*, start: bool = True, **options: Any) -> FolderTransport:
        options.setdefault("poll_interval", 0.05)
        transport = FolderTransport(gateway, tmp_path, **options)
        made.append(transport)
        if start:
            transport.start()
        return transport

    yield make
    for transport in made:
        transport.stop()


@pytest.fixture(params=["inotify", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    if request.param == "inotify" and not inotify_works():
        pytest.skip("inotify is not available here")
    return str(request.param)


@pytest.fixture
def transport(make_transport: TransportFactory, mode: str) -> FolderTransport:
    started = make_transport(use_inotify=mode == "inotify")
    assert started.inotify_active == (mode == "inotify")
    return started


# -- names and files (no threads) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "api_id", "result"),
    [
        ("OQSsiquc01req_202611230001.xml", "OQSsiquc01", "OQSsiquc01res_202611230001.xml"),
        ("OQSmuquc02req_x.xml", "OQSmuquc02", "OQSmuquc02res_x.xml"),
        ("YZKsiquc01req_0125112310300000012345.xml", "YZKsiquc01", "YZKsiquc01res_0125112310300000012345.xml"),
        ("OQSsiquc01req_a_req_b.xml", "OQSsiquc01", "OQSsiquc01res_a_req_b.xml"),
        ("OQSsiquc01req_x.zip", "OQSsiquc01", "OQSsiquc01res_x.xml"),
        ("OQSsiquc01req_x.XML", "OQSsiquc01", "OQSsiquc01res_x.XML"),
    ],
)
def test_request_names(name: str, api_id: str, result: str) -> None:
    parsed = parse_request_name(name)
    assert parsed is not None
    assert parsed.api_id == api_id
    assert parsed.result_name(".xml") == result


def test_result_extension_comes_from_the_response() -> None:
    parsed = parse_request_name("YZKsiquc01req_1.xml")
    assert parsed is not None
    assert parsed.result_name(".pdf") == "YZKsiquc01res_1.pdf"
    assert parsed.result_name(".zip") == "YZKsiquc01res_1.zip"


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("foo.txt", "拡張子"),
        ("OQSsiquc01req_.json", "拡張子"),
        ("OQSsiquc01req_x", "拡張子"),
        ("OQSsiquc01res_x.xml", "res_"),
        ("OQSsiquc01_x.xml", "req_"),
        ("OQSsiquc1req_x.xml", "API識別ID"),
        ("01req_x.xml", "API識別ID"),
    ],
)
def test_rejected_names_are_explained(name: str, says: str) -> None:
    assert parse_request_name(name) is None
    assert says in explain_name(name)


def test_temporary_names_are_ignored() -> None:
    assert is_ignored(".OQSsiquc01req_1.xml")
    assert is_ignored("~OQSsiquc01req_1.xml")
    assert is_ignored("OQSsiquc01req_1.xml.tmp")
    assert not is_ignored("OQSsiquc01req_1.xml")


def test_unique_path_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(b"1")
    second = unique_path(tmp_path, "a.xml")
    assert second.name != "a.xml"
    assert second.suffix == ".xml"
    second.write_bytes(b"2")
    assert unique_path(tmp_path, "a.xml") not in (tmp_path / "a.xml", second)


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


def test_unzip_single_xml() -> None:
    assert unzip_single_xml(zipped({"OQSsiquc01req_1.xml": b"<x/>"}), 100) == b"<x/>"
    with pytest.raises(ContainerError, match="1つだけ"):
        unzip_single_xml(zipped({"a.xml": b"<x/>", "b.xml": b"<y/>"}), 100)
    with pytest.raises(ContainerError, match="1つだけ"):
        unzip_single_xml(zipped({"a.txt": b"x"}), 100)
    with pytest.raises(ContainerError, match="ZIP形式"):
        unzip_single_xml(b"not a zip", 100)
    with pytest.raises(ContainerError, match="上限"):
        unzip_single_xml(zipped({"a.xml": b"<x/>" * 100}), 100)


def test_encrypted_zip_is_refused() -> None:
    data = bytearray(zipped({"a.xml": b"<x/>"}))
    # Set the "encrypted" flag bit in the local and central headers (stdlib cannot write one).
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature) + offset
        data[at] |= 0x01
    with pytest.raises(ContainerError, match="パスワード"):
        unzip_single_xml(bytes(data), 100)


# -- synchronous processing ----------------------------------------------------------------------


def test_process_pending_answers_without_threads(make_transport: TransportFactory, tmp_path: Path) -> None:
    transport = make_transport(start=False)
    drop(transport.req, "OQSsiquc01req_202611230001.xml", request())
    assert transport.process_pending() == 1
    result = (transport.res / "OQSsiquc01res_202611230001.xml").read_bytes()
    assert result.startswith(b'<?xml version="1.0" encoding="Shift_JIS"')
    assert header(result)["SegmentOfResult"] == "1"
    assert header(result)["ArbitraryFileIdentifier"] == "F0001"
    assert body_of(result)["QualificationValidity"] == "1"
    assert names(transport.req) == []
    assert names(transport.trash) == ["OQSsiquc01req_202611230001.xml"]
    assert transport.process_pending() == 0


def test_result_files_are_indented_as_the_terminal_writes_them_unless_compact(
    make_transport: TransportFactory, gateway: Gateway
) -> None:
    transport = make_transport(start=False)
    drop(transport.req, "OQSsiquc01req_1.xml", request())
    transport.process_pending()
    lines = (transport.res / "OQSsiquc01res_1.xml").read_bytes().decode("cp932").splitlines()
    assert lines[1:4] == ["<XmlMsg>", "    <MessageHeader>", lines[3]]
    assert lines[3].startswith("        <ProcessExecutionTime>")
    assert "                <Name>保険　太郎</Name>" in lines  # ResultList/ResultOfQualificationConfirmation/Name
    gateway.settings.indent_files = False  # serve --compact
    drop(transport.req, "OQSsiquc01req_2.xml", request())
    transport.process_pending()
    compact = (transport.res / "OQSsiquc01res_2.xml").read_bytes()
    assert compact.count(b"\n") == 1
    assert body_of(compact) == body_of((transport.res / "OQSsiquc01res_1.xml").read_bytes())


def test_same_name_twice_keeps_both_in_trash(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False)
    for _ in range(2):
        drop(transport.req, "OQSsiquc01req_1.xml", request())
        assert transport.process_pending() == 1
    assert len(names(transport.trash)) == 2
    assert names(transport.res) == ["OQSsiquc01res_1.xml"]


def test_folders_are_created(make_transport: TransportFactory, tmp_path: Path) -> None:
    make_transport(start=False)
    for folder in ("req", "res", "face", "trash"):
        assert (tmp_path / folder).is_dir()


def test_start_and_stop_are_idempotent(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False)
    transport.stop()
    transport.start()
    transport.start()
    assert transport.running
    transport.stop()
    transport.stop()
    assert not transport.running
    transport.start()  # restartable
    drop(transport.req, "OQSsiquc01req_again.xml", request())
    wait_for((transport.res / "OQSsiquc01res_again.xml").exists, "the result after a restart")


# -- the watcher, in both modes ------------------------------------------------------------------


def test_valid_request_is_answered_and_trashed(transport: FolderTransport) -> None:
    # Written in place (not renamed): inotify sees CLOSE_WRITE, polling waits for it to settle.
    (transport.req / "OQSsiquc01req_202611230001.xml").write_bytes(request())
    result_path = transport.res / "OQSsiquc01res_202611230001.xml"
    wait_for(result_path.exists, "the result file")
    result = result_path.read_bytes()
    assert header(result)["SegmentOfResult"] == "1"
    assert header(result)["CharacterCodeIdentifier"] == "1"
    assert body_of(result)["QualificationValidity"] == "1"
    wait_for(lambda: names(transport.trash) == ["OQSsiquc01req_202611230001.xml"], "the request in trash")
    assert names(transport.req) == []


def test_file_waiting_before_start_is_processed(make_transport: TransportFactory, mode: str) -> None:
    transport = make_transport(start=False, use_inotify=mode == "inotify")
    drop(transport.req, "OQSsiquc01req_while_down.xml", request())
    transport.start()
    wait_for((transport.res / "OQSsiquc01res_while_down.xml").exists, "the result of a file left waiting")
    wait_for(lambda: names(transport.req) == [], "req to empty")


def test_half_written_file_is_not_taken_early(make_transport: TransportFactory, mode: str) -> None:
    # Polling: the second half lands within one poll interval of a scan having seen the first.
    # inotify: the file stays open, so only the slow safety rescan can see it.
    transport = make_transport(start=False, use_inotify=mode == "inotify", poll_interval=1.0)
    seen: list[tuple[str, int]] = []
    listing = transport._listing

    def spy() -> list[tuple[str, tuple[int, int, int]]]:
        out = listing()
        seen.extend((name, sig[0]) for name, sig in out)
        return out

    transport._listing = spy  # type: ignore[method-assign]
    transport.start()  # after the spy, so that it sees every listing
    data = request()
    half = len(data) // 2
    name = "OQSsiquc01req_half.xml"
    with open(transport.req / name, "wb") as handle:
        handle.write(data[:half])
        handle.flush()
        wait_for(lambda: (name, half) in seen, "a scan to see the half-written file", timeout=15)
        assert not (transport.res / "OQSsiquc01res_half.xml").exists()
        handle.write(data[half:])
    result = transport.res / "OQSsiquc01res_half.xml"
    wait_for(result.exists, "the result of the completed file")
    assert header(result.read_bytes())["SegmentOfResult"] == "1"


def test_malformed_xml_gets_segment_9(transport: FolderTransport) -> None:
    drop(transport.req, "OQSsiquc01req_bad.xml", b'<?xml version="1.0" encoding="Shift_JIS"?>\n<XmlMsg><Mess')
    result = transport.res / "OQSsiquc01res_bad.xml"
    wait_for(result.exists, "the error result")
    assert header(result.read_bytes())["SegmentOfResult"] == "9"
    assert header(result.read_bytes())["ErrorCode"] == "MGW1001"
    wait_for(lambda: names(transport.trash) == ["OQSsiquc01req_bad.xml"], "the request in trash")


def test_unknown_api_id_gets_segment_9(transport: FolderTransport) -> None:
    drop(transport.req, "ABCxyz99req_1.xml", request())
    result = transport.res / "ABCxyz99res_1.xml"
    wait_for(result.exists, "the error result")
    assert header(result.read_bytes())["ErrorCode"] == "MGW1007"


@pytest.mark.parametrize("name", ["foo.txt", "OQSsiquc01req_.json", "OQSsiquc01res_x.xml"])
def test_unknown_name_goes_to_res_with_err(transport: FolderTransport, gateway: Gateway, name: str) -> None:
    drop(transport.req, name, b"payload")
    err = transport.res / f"{name}.err"
    wait_for(lambda: (transport.res / name).exists() and err.exists(), "the request and its .err in res")
    assert (transport.res / name).read_bytes() == b"payload"
    text = err.read_text(encoding="utf-8")
    assert "ErrorCode: MGW1010" in text
    assert name in text
    assert names(transport.req) == []
    entries = gateway.journal.entries(transport="folder")
    assert [(e.name, e.segment) for e in entries] == [(name, "9")]
    assert "MGW1010" in (entries[0].reason or "")


def test_temporary_files_are_left_alone(transport: FolderTransport) -> None:
    for name in (".OQSsiquc01req_1.xml", "~OQSsiquc01req_2.xml", "OQSsiquc01req_3.xml.tmp"):
        (transport.req / name).write_bytes(request())
    drop(transport.req, "OQSsiquc01req_4.xml", request())  # a marker: once it is answered …
    wait_for((transport.trash / "OQSsiquc01req_4.xml").exists, "the marker in trash")
    assert names(transport.req) == [".OQSsiquc01req_1.xml", "OQSsiquc01req_3.xml.tmp", "~OQSsiquc01req_2.xml"]
    assert names(transport.res) == ["OQSsiquc01res_4.xml"]


def test_zip_request(transport: FolderTransport) -> None:
    drop(transport.req, "OQSsiquc01req_z.zip", zipped({"OQSsiquc01req_z.xml": request()}))
    result = transport.res / "OQSsiquc01res_z.xml"
    wait_for(result.exists, "the result of a zipped request")
    assert body_of(result.read_bytes())["QualificationValidity"] == "1"


def test_unreadable_zip_is_rejected_with_err(transport: FolderTransport) -> None:
    drop(transport.req, "OQSsiquc01req_z.zip", zipped({"a.xml": b"<a/>", "b.xml": b"<b/>"}))
    err = transport.res / "OQSsiquc01req_z.zip.err"
    wait_for(err.exists, "the .err of a bad zip")
    assert "MGW1011" in err.read_text(encoding="utf-8")
    wait_for((transport.res / "OQSsiquc01req_z.zip").exists, "the request in res")


def test_maintenance_holds_files_until_removed(transport: FolderTransport, gateway: Gateway) -> None:
    rule = gateway.faults.add(FaultRule(kind="maintenance", api_id="OQSsiquc01"))
    drop(transport.req, "OQSsiquc01req_m.xml", request())
    drop(transport.req, "OQSmuquc01req_other.xml", request())  # another API is not affected
    wait_for((transport.trash / "OQSmuquc01req_other.xml").exists, "the other API's file answered")
    wait_for(lambda: transport.held_files() == ["OQSsiquc01req_m.xml"], "the file to be held")
    assert names(transport.req) == ["OQSsiquc01req_m.xml"]
    assert not (transport.res / "OQSsiquc01res_m.xml").exists()
    gateway.faults.remove(rule.id)
    result = transport.res / "OQSsiquc01res_m.xml"
    wait_for(result.exists, "the held file's result")
    assert header(result.read_bytes())["SegmentOfResult"] == "1"
    assert transport.held_files() == []


def test_maintenance_window_ending_on_the_clock(transport: FolderTransport, gateway: Gateway) -> None:
    gateway.faults.add(FaultRule(kind="maintenance", end=jst(2026, 11, 23, 11)))
    drop(transport.req, "OQSsiquc01req_w.xml", request())
    wait_for(lambda: transport.held_files() == ["OQSsiquc01req_w.xml"], "the file to be held")
    gateway.clock.set(jst(2026, 11, 23, 11), running=False)
    wait_for((transport.res / "OQSsiquc01res_w.xml").exists, "the result after the window")


def test_latency_fault_delays_only_that_file(make_transport: TransportFactory, gateway: Gateway) -> None:
    transport = make_transport()
    gateway.faults.add(FaultRule(kind="latency", latency_ms=60_000, medical_institution=OTHER_MIC))
    drop(transport.req, "OQSsiquc01req_1slow.xml", request(mic=OTHER_MIC))
    wait_for(lambda: gateway.journal.entries(transport="folder"), "the slow file to reach the engine")
    drop(transport.req, "OQSsiquc01req_2fast.xml", request())
    wait_for((transport.res / "OQSsiquc01res_2fast.xml").exists, "the fast file's result")
    assert not (transport.res / "OQSsiquc01res_1slow.xml").exists()
    # stop() cuts the sleep short and the slow request stays in req: nothing accepted is lost.
    transport.stop()
    assert names(transport.req) == ["OQSsiquc01req_1slow.xml"]
    gateway.faults.clear()
    transport.start()
    wait_for((transport.res / "OQSsiquc01res_1slow.xml").exists, "the slow file after a restart")


def test_drop_fault_loses_the_result(transport: FolderTransport, gateway: Gateway) -> None:
    gateway.faults.add(FaultRule(kind="drop", times=1))
    drop(transport.req, "OQSsiquc01req_lost.xml", request())
    wait_for(lambda: names(transport.trash) == ["OQSsiquc01req_lost.xml"], "the request in trash")
    assert names(transport.res) == []
    assert gateway.journal.entries(transport="folder")[-1].fault == "drop"


def test_http503_fault_is_an_error_result(transport: FolderTransport, gateway: Gateway) -> None:
    gateway.faults.add(FaultRule(kind="http503", times=1))
    drop(transport.req, "OQSsiquc01req_503.xml", request())
    result = transport.res / "OQSsiquc01res_503.xml"
    wait_for(result.exists, "the error result")
    assert header(result.read_bytes())["SegmentOfResult"] == "9"


def test_burst_is_answered_exactly_once_atomically(transport: FolderTransport, gateway: Gateway) -> None:
    count = 50
    bad: list[str] = []
    seen: set[str] = set()
    done = threading.Event()

    def watch_res() -> None:
        # A client polling res: everything it can see by name must be a whole, parseable file.
        while not done.is_set():
            for name in os.listdir(transport.res):
                if name.startswith(".") or name in seen:
                    continue
                try:
                    data = (transport.res / name).read_bytes()
                    assert header(data)["SegmentOfResult"] == "1"
                except Exception as exc:
                    bad.append(f"{name}: {exc!r}")
                seen.add(name)

    watcher = threading.Thread(target=watch_res)
    watcher.start()
    try:
        for i in range(count):
            drop(transport.req, f"OQSsiquc01req_{i:04d}.xml", request(file_id=f"F{i:04d}"))
        expected = [f"OQSsiquc01res_{i:04d}.xml" for i in range(count)]
        wait_for(lambda: names(transport.res) == expected, "all results", timeout=30)
        wait_for(lambda: len(names(transport.trash)) == count, "all requests in trash", timeout=30)
    finally:
        done.set()
        watcher.join()
    assert bad == []
    assert names(transport.req) == []
    entries = gateway.journal.entries(transport="folder")
    assert sorted(e.name or "" for e in entries) == [f"OQSsiquc01req_{i:04d}.xml" for i in range(count)]
    for i in range(count):
        result = (transport.res / f"OQSsiquc01res_{i:04d}.xml").read_bytes()
        assert header(result)["ArbitraryFileIdentifier"] == f"F{i:04d}"
    for folder in (transport.req, transport.res, transport.face, transport.trash):
        assert [n for n in names(folder) if n.startswith(".")] == []


def test_write_face(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False)
    path = transport.write_face(b"<XmlMsg/>", "OQSsiquc01res_face_20261123100000.xml")
    assert path == transport.face / "OQSsiquc01res_face_20261123100000.xml"
    assert path.read_bytes() == b"<XmlMsg/>"
    assert names(transport.face) == ["OQSsiquc01res_face_20261123100000.xml"]
    for bad in ("../x.xml", ".hidden.xml", "", "a/b.xml"):
        with pytest.raises(ValueError, match="plain file name"):
            transport.write_face(b"x", bad)


def test_stale_temp_files_are_removed_on_start(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False)
    stale = transport.res / ".mgw-1-1.tmp"
    stale.write_bytes(b"half")
    transport.start()
    assert not stale.exists()


def test_oversized_file_is_answered_too_large(make_transport: TransportFactory, gateway: Gateway) -> None:
    gateway.settings.max_request_bytes = 100
    transport = make_transport(start=False)
    drop(transport.req, "OQSsiquc01req_big.xml", request())
    assert transport.process_pending() == 1
    assert header((transport.res / "OQSsiquc01res_big.xml").read_bytes())["ErrorCode"] == "MGW1009"


def test_empty_file_is_answered_once_it_settles(transport: FolderTransport) -> None:
    # An empty file may be a writer's create-then-reopen; once it stays empty it is malformed.
    (transport.req / "OQSsiquc01req_empty.xml").touch()
    result = transport.res / "OQSsiquc01res_empty.xml"
    wait_for(result.exists, "the result of an empty file")
    assert header(result.read_bytes())["SegmentOfResult"] == "9"


def test_maintenance_for_one_institution_answers_with_the_error(
    make_transport: TransportFactory, gateway: Gateway
) -> None:
    # File names carry no 医療機関コード, so such a rule cannot hold files; the engine answers.
    gateway.faults.add(FaultRule(kind="maintenance", medical_institution=MIC))
    transport = make_transport(start=False)
    drop(transport.req, "OQSsiquc01req_mic.xml", request())
    assert transport.process_pending() == 1
    assert header((transport.res / "OQSsiquc01res_mic.xml").read_bytes())["ErrorCode"] == "MGW9002"


def test_a_failing_write_leaves_the_request_waiting(
    make_transport: TransportFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mockgateway.transports.folder as folder_module

    def disk_full(directory: Path, name: str, data: bytes) -> Path:
        raise OSError(28, "No space left on device")

    transport = make_transport(start=False)
    drop(transport.req, "OQSsiquc01req_full.xml", request())
    with monkeypatch.context() as patch:
        patch.setattr(folder_module, "atomic_write", disk_full)
        assert transport.process_pending() == 0
    assert names(transport.req) == ["OQSsiquc01req_full.xml"]
    assert transport.process_pending() == 1  # the disk has room again
    assert names(transport.res) == ["OQSsiquc01res_full.xml"]


# -- reliability (issue 18) ----------------------------------------------------------------------


def test_a_symlink_in_req_is_refused_never_read_and_never_put_in_res(
    transport: FolderTransport, gateway: Gateway, tmp_path: Path
) -> None:
    secret = tmp_path.parent / f"{tmp_path.name}-outside-secret.txt"
    secret.write_text("root:x:0:0:secret-content\n")
    os.symlink(secret, transport.req / "OQSsiquc01req_link.xml")
    err = transport.res / "OQSsiquc01req_link.xml.err"
    wait_for(err.exists, "the .err of the symlink")
    text = err.read_text(encoding="utf-8")
    assert "MGW1012" in text
    assert "シンボリックリンク" in text
    wait_for(lambda: names(transport.req) == [], "req to empty")
    assert not (transport.res / "OQSsiquc01req_link.xml").is_symlink()  # never a link in res
    assert not (transport.res / "OQSsiquc01req_link.xml").exists()
    assert (transport.trash / "OQSsiquc01req_link.xml").is_symlink()  # kept, out of the client's way
    assert secret.read_text() == "root:x:0:0:secret-content\n"
    for entry in gateway.journal.entries():
        assert b"secret-content" not in entry.request


def test_a_fifo_in_req_never_blocks_a_worker(make_transport: TransportFactory, mode: str) -> None:
    transport = make_transport(use_inotify=mode == "inotify", workers=1)
    os.mkfifo(transport.req / "OQSsiquc01req_fifo1.xml")
    os.mkfifo(transport.req / "OQSsiquc01req_fifo2.xml")
    drop(transport.req, "OQSsiquc01req_after.xml", request())
    wait_for((transport.res / "OQSsiquc01res_after.xml").exists, "the request behind two FIFOs")
    for name in ("OQSsiquc01req_fifo1.xml", "OQSsiquc01req_fifo2.xml"):
        err = transport.res / f"{name}.err"
        wait_for(err.exists, f"the .err of {name}")
        assert "FIFO" in err.read_text(encoding="utf-8")
    wait_for(lambda: names(transport.req) == [], "req to empty")


def test_a_fifo_renamed_over_a_queued_request_is_refused(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False)
    drop(transport.req, "OQSsiquc01req_swap.xml", request())
    os.mkfifo(transport.root / "fifo")
    os.replace(transport.root / "fifo", transport.req / "OQSsiquc01req_swap.xml")  # after the listing saw a file
    outcome = transport._handle("OQSsiquc01req_swap.xml")  # would block forever in open() before
    assert outcome == "rejected"
    assert "FIFO" in (transport.res / "OQSsiquc01req_swap.xml.err").read_text(encoding="utf-8")


@pytest.mark.skipif(not inotify_works(), reason="inotify is not available here")
def test_a_writer_pausing_longer_than_the_settle_time_is_not_answered(make_transport: TransportFactory) -> None:
    # The writer keeps the file open: no CLOSE_WRITE, so only a rescan sees it; the read-lease
    # check tells that a writer still has it, however long the pause.
    transport = make_transport(use_inotify=True, settle_seconds=0.2)
    data = request()
    name = "OQSsiquc01req_pause.xml"
    result = transport.res / "OQSsiquc01res_pause.xml"
    with open(transport.req / name, "wb") as handle:
        handle.write(data[: len(data) // 2])
        handle.flush()
        time.sleep(2.5 + 0.5)  # the pause of the report: past the rescan period and 10x the settle time
        assert not result.exists(), "a half-written file was answered"
        handle.write(data[len(data) // 2 :])
    wait_for(result.exists, "the result once the writer closed the file")
    assert header(result.read_bytes())["SegmentOfResult"] == "1"


def test_an_unwritable_res_is_retried_with_backoff_and_reported(
    make_transport: TransportFactory, gateway: Gateway
) -> None:
    from mockgateway import health

    transport = make_transport(use_inotify=False)
    transport.res.rmdir()
    transport.res.write_text("not a folder")  # every write into res/ fails, even for root
    drop(transport.req, "OQSsiquc01req_retry.xml", request())
    wait_for(lambda: transport.problem, "the failure to be noticed")
    status, doc = health.check(gateway)
    assert status == 503
    assert any("not writable" in p for p in doc["problems"])
    wait_for(
        lambda: len([e for e in gateway.journal.entries() if e.fault == "transport-failure"]) >= 2,
        "a retry and its journaled failure",
    )
    transport.res.unlink()
    transport.res.mkdir()  # writable again: no touch, no restart
    wait_for((transport.res / "OQSsiquc01res_retry.xml").exists, "the retried answer", timeout=60)
    wait_for(lambda: transport.problem is None, "the problem to clear")
    assert health.check(gateway)[0] == 200


def test_a_long_name_gets_its_err(transport: FolderTransport) -> None:
    name = "x" * 251 + ".xml"  # 255 bytes: name + ".err" does not fit
    (transport.req / name).write_bytes(b"<x/>")
    wait_for(lambda: [n for n in names(transport.res) if n.endswith(".err")], "an .err for the long name")
    (err,) = [n for n in names(transport.res) if n.endswith(".err")]
    assert len(os.fsencode(err)) <= 255
    assert name in (transport.res / err).read_text(encoding="utf-8")
    wait_for((transport.res / name).exists, "the request itself in res")


def test_a_name_that_is_not_utf8_gets_its_err_and_the_journal_reads(
    make_transport: TransportFactory, gateway: Gateway
) -> None:
    import orjson

    transport = make_transport(start=False)
    raw_name = b"OQSsiquc01req_\xff.xml"
    bad_name = b"bad\xfe.txt"
    with open(os.path.join(os.fsencode(transport.req), raw_name), "wb") as handle:
        handle.write(request())
    with open(os.path.join(os.fsencode(transport.req), bad_name), "wb") as handle:
        handle.write(b"<x/>")
    assert transport.process_pending() == 2
    err = (transport.res / os.fsdecode(bad_name + b".err")).read_text(encoding="utf-8")
    assert "bad\\xfe.txt" in err
    assert (transport.res / os.fsdecode(b"OQSsiquc01res_\xff.xml")).exists()
    dumped = orjson.loads(orjson.dumps([e.as_dict() for e in gateway.journal.entries()]))
    assert {d["name"] for d in dumped} >= {"OQSsiquc01req_\\xff.xml", "bad\\xfe.txt"}


def test_a_newline_in_a_name_cannot_forge_err_lines(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False)
    name = "evil\r\nErrorCode: 0000\r\nx.txt"
    (transport.req / name).write_bytes(b"<x/>")
    assert transport.process_pending() == 1
    lines = (transport.res / f"{name}.err").read_bytes().decode("utf-8").split("\r\n")
    assert [line for line in lines if line.startswith("ErrorCode:")] == ["ErrorCode: MGW1010"]
    assert any("evil\\u000d\\u000aErrorCode: 0000" in line for line in lines)


def test_res_as_a_plain_file_is_a_clear_error(gateway: Gateway, tmp_path: Path) -> None:
    from mockgateway.transports.folder import FolderError

    root = tmp_path / "root"
    root.mkdir()
    (root / "res").write_text("oops")
    with pytest.raises(FolderError, match="res exists but is not a folder"):
        FolderTransport(gateway, root)


def test_trash_keeps_files_for_the_retention_days(make_transport: TransportFactory) -> None:
    transport = make_transport(start=False, trash_retention_days=7)
    drop(transport.req, "OQSsiquc01req_old.xml", request())
    assert transport.process_pending() == 1
    assert names(transport.trash) == ["OQSsiquc01req_old.xml"]
    assert transport.sweep_trash(now=time.time() + 6 * 86400) == 0
    assert transport.sweep_trash(now=time.time() + 8 * 86400) == 1
    assert names(transport.trash) == []
    forever = make_transport(start=False, trash_retention_days=0)
    drop(forever.req, "OQSsiquc01req_kept.xml", request())
    assert forever.process_pending() == 1
    assert forever.sweep_trash(now=time.time() + 10_000 * 86400) == 0
