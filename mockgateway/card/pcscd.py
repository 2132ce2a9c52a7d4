"""A private pcscd with one vsmartcard-vpcd reader entry, started and stopped by PID.

Facts this module is built on (measured on Debian 12, pcsc-lite 1.9.9, vpcd 3.3):

* `pcscd -f -c DIR` reads reader entries from DIR instead of /etc/reader.conf.d.
* One vpcd entry gives two slots, named "<FRIENDLYNAME> 00 00" and "<FRIENDLYNAME> 00 01",
  listening on ports P and P+1. A second vpcd entry in the same pcscd aliases the first (the
  driver indexes its state by slot number only), so there is exactly one entry.
  Slot 0 serves as the face-auth reader, slot 1 as the plain reader.
* vpcd listens on 0.0.0.0: anything that reaches the port can "insert a card".
* The client socket path /run/pcscd/pcscd.comm is compiled in, so one pcscd per mount
  namespace; pcscd needs root here (or a user+mount namespace, not handled here).
* Stopping pcscd takes ~2 s: start it once per test session.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

PCSCD_RUN_DIR = Path("/run/pcscd")
PCSCD_SOCKET = PCSCD_RUN_DIR / "pcscd.comm"
PCSCD_PID_FILE = PCSCD_RUN_DIR / "pcscd.pid"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
DEFAULT_VPCD_PORT = 35971  # not the stock 35963, to stay clear of a system-wide vpcd entry
DEFAULT_FRIENDLY_NAME = "mockgateway Virtual Reader"
FACE_AUTH_SLOT = 0
PLAIN_SLOT = 1
SETUP_HINT = "run scripts/setup-pcsc.sh as root"


class PcscdError(Exception):
    """pcscd could not be started or stopped."""


def pcscd_unavailable_reason(*, require_pyscard: bool = False, port: int = DEFAULT_VPCD_PORT) -> str | None:
    """None when a private pcscd with vpcd can run here, else why not (for pytest.skip)."""
    pcscd = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if pcscd is None:
        return f"pcscd not found on PATH or in /usr/sbin ({SETUP_HINT})"
    if not VPCD_DRIVER.exists():
        return f"vsmartcard-vpcd driver {VPCD_DRIVER} not found ({SETUP_HINT})"
    if os.geteuid() != 0:
        return "pcscd needs root here: its socket directory /run/pcscd is fixed (run the tests as root)"
    owner = running_pcscd_pid()
    if owner is not None:
        return (
            f"another pcscd (pid {owner}) owns {PCSCD_RUN_DIR}; a private pcscd cannot start "
            "(stop it, or run the tests in their own mount namespace)"
        )
    if _unix_socket_accepts(PCSCD_SOCKET):
        return f"a pcscd (pid unknown) already answers on {PCSCD_SOCKET}; a private pcscd cannot start"
    busy = [p for p in (port, port + 1) if _tcp_listening(p)]
    if busy:
        return f"vpcd ports {port}/{port + 1}: {busy} already in use by another process"
    if require_pyscard:
        try:
            importlib.import_module("smartcard.scard")
        except ImportError as exc:
            return f"pyscard is not importable ({exc}); install it: pip install pyscard (after {SETUP_HINT})"
    return None


def running_pcscd_pid() -> int | None:
    """PID of a live pcscd recorded in /run/pcscd/pcscd.pid, if any."""
    try:
        # pcscd writes "<pid>\n\0": take the leading digits only.
        match = re.match(rb"\s*(\d+)", PCSCD_PID_FILE.read_bytes())
    except OSError:
        return None
    if match is None:
        return None
    pid = int(match.group(1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def write_reader_conf(directory: Path, *, port: int, friendly_name: str) -> Path:
    """A reader.conf directory with the single vpcd entry; returns the entry's path."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.is_file():
            stale.unlink()
    if '"' in friendly_name:
        raise ValueError(f"friendly_name must not contain quotes: {friendly_name!r}")
    entry = directory / "vpcd"
    entry.write_text(
        f'FRIENDLYNAME "{friendly_name}"\n'
        f"DEVICENAME   /dev/null:0x{port:04X}\n"
        f"LIBPATH      {VPCD_DRIVER}\n"
        f"CHANNELID    0x{port:04X}\n"
    )
    return entry


class PrivatePcscd:
    """`pcscd -f -c <workdir>/reader.conf.d` as a child process.

    Use as a context manager or call `start()` / `stop()`. `reader_name(slot)` and `port(slot)`
    give the reader for slot 0 (face-auth reader) and slot 1 (plain reader).
    """

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        *,
        port: int = DEFAULT_VPCD_PORT,
        friendly_name: str = DEFAULT_FRIENDLY_NAME,
        debug: bool = False,
    ) -> None:
        self.workdir = Path(workdir)
        self.base_port = port
        self.friendly_name = friendly_name
        self.debug = debug  # -d -a: pcscd logs every APDU to pcscd.log (slower)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def conf_dir(self) -> Path:
        return self.workdir / "reader.conf.d"

    @property
    def log_path(self) -> Path:
        return self.workdir / "pcscd.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def port(self, slot: int) -> int:
        if slot not in (0, 1):
            raise ValueError(f"slot: expected 0 or 1, got {slot}")
        return self.base_port + slot

    def reader_name(self, slot: int) -> str:
        self.port(slot)  # validates slot
        return f"{self.friendly_name} 00 {slot:02d}"

    @property
    def face_auth_reader(self) -> str:
        return self.reader_name(FACE_AUTH_SLOT)

    @property
    def plain_reader(self) -> str:
        return self.reader_name(PLAIN_SLOT)

    def start(self, *, timeout: float = 15.0) -> None:
        if self.process is not None:
            raise PcscdError("already started")
        reason = pcscd_unavailable_reason(port=self.base_port)
        if reason is not None:
            raise PcscdError(reason)
        write_reader_conf(self.conf_dir, port=self.base_port, friendly_name=self.friendly_name)
        binary = shutil.which("pcscd") or "/usr/sbin/pcscd"
        args = [binary, "-f", "-c", str(self.conf_dir)]
        if self.debug:
            args += ["-d", "-a"]
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        # Ready = clients can connect to pcscd.comm and vpcd listens on both slot ports.
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise PcscdError(f"pcscd exited with status {code} during start-up; log: {self._tail_log()}")
            if (
                _unix_socket_accepts(PCSCD_SOCKET)
                and _tcp_listening(self.base_port)
                and _tcp_listening(self.base_port + 1)
            ):
                return
            time.sleep(0.02)
        raise PcscdError(f"pcscd not ready after {timeout} s; log: {self._tail_log()}")

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM our pcscd by PID, SIGKILL after `timeout`. Idempotent."""
        proc = self.process
        self.process = None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> PrivatePcscd:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _tail_log(self, limit: int = 2000) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return text[-limit:].strip() or "(empty)"


def _unix_socket_accepts(path: Path) -> bool:
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True


def _tcp_listening(port: int) -> bool:
    # Read /proc instead of connecting: a TCP connect to vpcd would count as a card insertion.
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            next(fh, None)
            for line in fh:
                fields = line.split()
                if len(fields) > 3 and fields[1].endswith(wanted) and fields[3] == "0A":  # 0A = LISTEN
                    return True
    return False


def wait_for_card_state(reader: str, *, present: bool, timeout: float = 10.0) -> bytes | None:
    """Block until pcscd reports a card present (or absent) in `reader`; the ATR when present.

    Uses SCardGetStatusChange, as a PC/SC client would, instead of sleeping. Needs pyscard.
    """
    from smartcard import scard

    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise PcscdError(f"SCardEstablishContext: {scard.SCardGetErrorMessage(hresult)}")
    try:
        deadline = time.monotonic() + timeout
        query = [(reader, scard.SCARD_STATE_UNAWARE)]
        while True:
            hresult, states = scard.SCardGetStatusChange(ctx, 200, query)
            if hresult == scard.SCARD_S_SUCCESS:
                _, event, atr = states[0]
                if event & scard.SCARD_STATE_UNKNOWN:
                    raise PcscdError(f"reader {reader!r} is not known to pcscd")
                is_present = bool(event & scard.SCARD_STATE_PRESENT)
                if is_present == present:
                    return bytes(atr) if present else None
                query = [(reader, event)]
            elif hresult != scard.SCARD_E_TIMEOUT:
                raise PcscdError(f"SCardGetStatusChange: {scard.SCardGetErrorMessage(hresult)}")
            if time.monotonic() >= deadline:
                state = "present" if present else "absent"
                raise PcscdError(f"card not {state} in {reader!r} after {timeout} s")
    finally:
        scard.SCardReleaseContext(ctx)


def stop_pyscard_card_monitor(timeout: float = 10.0) -> None:
    """Stop pyscard's CardMonitor thread and release its PC/SC context, before pcscd stops.

    pyscard starts one monitoring thread per process on the first `CardMonitor()` and never
    stops it (deleteObserver does not, with pyscard's default _START_ON_DEMAND_ = False); the
    thread sits in SCardGetStatusChange for up to 60 s. Tests that used a CardMonitor call this
    so no thread or context outlives the test's pcscd. Touches pyscard internals on purpose.
    """
    from smartcard import scard
    from smartcard.CardMonitoring import CardMonitor, CardMonitoringThread

    thread = CardMonitoringThread.instance
    if thread is None:
        return
    thread.stopEvent.set()
    deadline = time.monotonic() + timeout
    # A cancel only interrupts a call in progress; repeat it until the thread has really left.
    while thread.is_alive() and time.monotonic() < deadline:
        request = thread.cardrequest
        if request is not None and request.pcsccardrequest.hcontext is not None:
            scard.SCardCancel(request.pcsccardrequest.hcontext)
        thread.join(0.05)
    if thread.is_alive():
        raise PcscdError(f"pyscard's card monitor thread did not stop within {timeout} s")
    if thread.cardrequest is not None:
        thread.cardrequest.pcsccardrequest.release()
    with CardMonitoringThread.lock:
        CardMonitoringThread.instance = None
    with CardMonitor.lock:
        CardMonitor.instance = None  # the next CardMonitor() starts a fresh thread
