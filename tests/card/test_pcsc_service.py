"""`mockgateway card reader start|stop`, `card insert|remove` and /admin/card/*: a fixture person's
card in a real pcscd reader, read by programs that know nothing of mockgateway.

The end-to-end test runs tests/card/pcsc_cli_driver.py in a namespace of its own (`unshare --mount
--net`, a private /run/pcscd and loopback): the service starts its own pcscd, which must not meet
the session's pcscd of the other card tests. Every step there is a separate process: the gateway,
the CLI, `opensc-tool --list-readers`, `pkcs15-tool --list-certificates`, a pyscard script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mockgateway.card.pcsc_service import CardReaderService, ReaderServiceError

DRIVER = Path(__file__).with_name("pcsc_cli_driver.py")
ROOT = Path(__file__).resolve().parents[2]


def _namespace_unavailable() -> str | None:
    from mockgateway.card.pcscd import VPCD_DRIVER

    if os.geteuid() != 0:
        return "needs root: the driver mounts a private /run/pcscd in its own namespace"
    for tool in ("unshare", "ip", "mount", "opensc-tool", "pkcs15-tool"):
        if shutil.which(tool) is None:
            return f"{tool} not found (scripts/setup-pcsc.sh installs the card tools)"
    if shutil.which("pcscd") is None and not Path("/usr/sbin/pcscd").exists():
        return "pcscd not installed (scripts/setup-pcsc.sh)"
    if not VPCD_DRIVER.exists():
        return f"vsmartcard-vpcd driver {VPCD_DRIVER} not installed (scripts/setup-pcsc.sh)"
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return f"cannot make a mount + network namespace here: {probe.stderr.decode(errors='replace').strip()}"
    try:
        import smartcard.scard  # noqa: F401
    except ImportError as exc:
        return f"pyscard not importable ({exc})"
    return None


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    reason = _namespace_unavailable()
    if reason is not None:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("pcsc-cli")
    argv = ["unshare", "--mount", "--propagation", "private", "--net", sys.executable, str(DRIVER), str(work)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-4000:] + (work / "serve.log").read_text(errors="replace")[-3000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


pcscd_test = pytest.mark.pcscd


def _output(step: dict[str, Any]) -> dict[str, Any]:
    assert step["code"] == 0, step
    found: dict[str, Any] = json.loads(step["out"])
    return found


@pcscd_test
def test_start_writes_the_pid_and_the_socket_under_the_root(steps: dict[str, Any]) -> None:
    assert steps["start"]["code"] == 0, steps["start"]
    assert "card reader running: pcscd pid" in steps["start"]["out"]
    assert str(steps["pid_file"]).isdigit()
    assert steps["socket_link"] == "/run/pcscd/pcscd.comm"
    status = json.loads(steps["status"]["out"])
    assert status["running"] is True
    assert status["pid_file"] == f"{steps['root']}/card-reader/pcscd.pid"
    assert status["slots"] == {"face": "kouki-ume", "plain": "hoken-taro"}


@pcscd_test
def test_opensc_sees_both_readers_and_the_persons_certificate(steps: dict[str, Any]) -> None:
    assert steps["insert"]["code"] == 0, steps["insert"]
    readers = steps["opensc_readers"]
    assert readers["code"] == 0, readers
    assert "mockgateway Virtual Reader 00 00" in readers["out"]
    assert "mockgateway Virtual Reader 00 01" in readers["out"]
    listing = steps["pkcs15_certificates"]
    assert listing["code"] == 0, listing
    assert "[User Authentication Certificate]" in listing["out"]
    serial = str(steps["issued"]["serial"]).upper().lstrip("0")  # the card the gateway's registry issued
    assert serial in listing["out"].replace(" ", "").replace(":", "").upper()


@pcscd_test
def test_a_pyscard_program_reads_the_card_until_it_is_removed(steps: dict[str, Any]) -> None:
    read = _output(steps["pyscard"])
    assert read["card"] is True
    assert read["select_jpki"] == "9000"
    assert len(read["readers"]) == 2
    assert steps["remove"]["code"] == 0, steps["remove"]
    after = _output(steps["pyscard_after_remove"])
    assert after["card"] is False


@pcscd_test
def test_refusals_and_stop(steps: dict[str, Any]) -> None:
    before = steps["insert_before_start"]
    assert before["code"] == 2
    assert "card reader is not running" in before["err"]
    again = steps["insert_again"]
    assert again["code"] == 2
    assert "already holds hoken-taro's card" in again["err"]
    assert steps["stop"]["code"] == 0, steps["stop"]
    assert "card reader stopped" in steps["stop"]["out"]
    assert steps["pcscd_alive_after_stop"] is False
    assert steps["pid_file_after_stop"] is False


def test_missing_pcscd_or_vpcd_is_refused_with_how_to_install(tmp_path: Path) -> None:
    service = CardReaderService(tmp_path, vpcd_driver=tmp_path / "libifdvpcd.so")
    with pytest.raises(ReaderServiceError) as refused:
        service.start()
    assert refused.value.status == 503
    assert "vsmartcard-vpcd driver is not installed" in str(refused.value)
    assert "apt-get install pcscd vsmartcard-vpcd" in str(refused.value)
    no_pcscd = CardReaderService(tmp_path, pcscd_binary=str(tmp_path / "pcscd"))
    assert "pcscd is not installed" in str(no_pcscd.unavailable_reason())
    assert not (tmp_path / "pcscd.pid").exists()


def test_the_cli_exits_5_when_the_reader_cannot_run_here(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mockgateway.cli import main
    from mockgateway.config import Config
    from mockgateway.harness.remote import free_port
    from mockgateway.server import start_in_thread
    from mockgateway.services.reader import pcsc

    port = free_port()
    running = start_in_thread(Config(root=tmp_path, http_port=port, tls_port=None, admin_token="t", folder=False))
    try:
        pcsc.service_of(running.gateway).vpcd_driver = tmp_path / "missing-vpcd.so"
        code = main(["card", "reader", "start", f"--url=http://127.0.0.1:{port}", "--token=t"])
        assert code == 5
        err = capsys.readouterr().err
        assert "apt-get install pcscd vsmartcard-vpcd" in err
        assert main(["card", "insert", "nobody", f"--url=http://127.0.0.1:{port}", "--token=t"]) == 2
    finally:
        running.stop()
        running.stopped.wait(10)
