"""The folder transport: `req` / `res` / `face` / `trash`, as the 資格確認端末's 連携アプリ exchanges files.

A client drops `<API-ID>req_<suffix>.xml` (or a password-less `.zip` holding one XML) into `req`;
the result appears in `res` as the same name with `req_` → `res_` (oqs-interface.md §1.1, §1.2,
§1.7). The contract, and which parts are observed rather than inferred, is in docs/folder.md.

Guarantees: results are written under a temporary name and renamed, so a watcher never sees half
a file; the result is durable before the request leaves `req`, so a crash can duplicate a result
but never lose a request; a file is handled by one worker at a time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import inotify_simple

from mockgateway.control.journal import JournalEntry
from mockgateway.domain.clock import format_timestamp
from mockgateway.domain.codes import ResultCode, SegmentOfResult
from mockgateway.engine import Format, Gateway
from mockgateway.store.files import atomic_write
from mockgateway.transports.folder_files import (
    ContainerError,
    NotRegular,
    RequestName,
    explain_name,
    fit_name,
    has_writer,
    is_ignored,
    parse_request_name,
    printable,
    read_request,
    remove_stale_temp_files,
    unique_path,
    unzip_single_xml,
)

log = logging.getLogger(__name__)

TRANSPORT = "folder"
FOLDERS = ("req", "res", "face", "trash")
# With inotify, a periodic listing still catches what events miss (bind mounts from a Docker
# Desktop host, network file systems, a queue overflow we failed to notice).
RESCAN_SECONDS = 2.0
# Used when the code table (domain/codes.py) has no entry of that name; overridable there.
DEFAULT_CODES = {
    "file.name": ResultCode("MGW1010", "ファイル名が規定の形式ではありません: {detail}"),
    "file.container": ResultCode("MGW1011", "ZIPファイルからXMLを取り出せません: {detail}"),
    "file.kind": ResultCode("MGW1012", "通常のファイルではありません: {detail}"),
}
# A file that could not be answered (res/ not writable, disk full, …) is tried again after
# RETRY_FIRST seconds, doubling up to RETRY_MAX, each failure journaled; /health reports it.
RETRY_FIRST = 1.0
RETRY_MAX = 30.0
TRASH_SWEEP_SECONDS = 600.0


class FolderError(RuntimeError):
    """The folder root cannot be used (a file where a folder belongs, …): said in one line."""


Outcome = Literal["answered", "dropped", "rejected", "held", "gone", "abandoned", "failed"]
Signature = tuple[int, int, int]  # size, mtime_ns, inode: any write or replacement changes it


@dataclass(slots=True)
class _Failure:
    signature: Signature
    attempts: int
    retry_at: float  # monotonic


@dataclass(slots=True)
class _Unsettled:
    signature: Signature
    since: float  # monotonic time the signature was first seen
    settle: float  # seconds it must stay unchanged before the file is taken


class FolderTransport:
    """Watches `<root>/req` and answers into `<root>/res`; see the module docstring.

    `start()` / `stop()` run a watcher thread and a pool of `workers` threads (idempotent;
    `stop()` joins them). `process_pending()` handles what is waiting, synchronously.
    """

    def __init__(
        self,
        gateway: Gateway,
        root: Path,
        *,
        use_inotify: bool = True,
        poll_interval: float = 0.2,
        workers: int = 2,
        settle_seconds: float = 2.0,
        trash_retention_days: float = 7.0,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.gateway = gateway
        self.root = Path(root)
        self.req, self.res, self.face, self.trash = (self.root / name for name in FOLDERS)
        self.use_inotify = use_inotify
        self.poll_interval = poll_interval
        self.workers = workers
        # Files found by a listing (not by CLOSE_WRITE / MOVED_TO) that the writer check cannot
        # vouch for must keep size, mtime and inode this long before they are taken.
        self.settle_seconds = settle_seconds
        self.trash_retention_days = trash_retention_days  # 0: keep trash/ forever
        self.problem: str | None = None  # for /health: why the last answer could not be written
        self.inotify_active = False  # what start() actually got (False: polling)
        self._lock = threading.Lock()  # _inflight, _held, _failed
        self._inflight: set[str] = set()
        self._held: dict[str, str] = {}  # name → API id, waiting for a maintenance window to end
        self._failed: dict[str, _Failure] = {}  # retried with backoff, or at once when the file changes
        self._trash_lock = threading.Lock()
        self._state_lock = threading.Lock()  # start / stop
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._inotify: Any = None
        self._wake: tuple[int, int] | None = None
        self._rescan_now = False
        self._next_sweep = 0.0
        self.ensure_folders()
        gateway.health_checks.append(lambda: self.problem)

    # -- lifecycle -----------------------------------------------------------------------------

    def ensure_folders(self) -> None:
        for folder in (self.root, self.req, self.res, self.face, self.trash):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise FolderError(
                    f"{folder} exists but is not a folder: move it away or choose another --root"
                ) from None
            except NotADirectoryError:
                raise FolderError(f"{folder}: a parent of it is a file, not a folder") from None
            if not folder.is_dir():
                raise FolderError(f"{folder} exists but is not a folder: move it away or choose another --root")

    @property
    def running(self) -> bool:
        return self._watcher is not None

    def start(self) -> None:
        with self._state_lock:
            if self._watcher is not None:
                return
            self.ensure_folders()
            for folder in (self.res, self.face):
                remove_stale_temp_files(folder)
            self._stopping.clear()
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="folder-worker")
            self._inotify = self._open_inotify() if self.use_inotify else None
            self.inotify_active = self._inotify is not None
            read_end, write_end = os.pipe()
            os.set_blocking(write_end, False)
            self._wake = (read_end, write_end)
            self._rescan_now = True  # files dropped while we were down are handled first
            self._watcher = threading.Thread(target=self._watch, name="folder-watch", daemon=True)
            self._watcher.start()
            mode = "inotify" if self.inotify_active else f"polling every {self.poll_interval:g}s"
            log.info("folder transport watching %s (%s, %d workers)", self.req, mode, self.workers)

    def stop(self) -> None:
        with self._state_lock:
            watcher, pool = self._watcher, self._pool
            if watcher is None or pool is None:
                return
            self._stopping.set()  # also cuts short latency-fault sleeps (those files stay in req)
            self.wake()
            watcher.join()
            pool.shutdown(wait=True, cancel_futures=True)
            if self._inotify is not None:
                self._inotify.close()
            assert self._wake is not None
            for fd in self._wake:
                os.close(fd)
            self._watcher = self._pool = self._inotify = self._wake = None
            self.inotify_active = False
            with self._lock:  # cancelled work never released its claim; a restart rescans anyway
                self._inflight.clear()
                self._held.clear()
                self._failed.clear()
            self._stopping.clear()
            log.info("folder transport stopped")

    def wake(self) -> None:
        """Re-check held files now (e.g. after a maintenance rule was removed) rather than at the next tick."""
        wake = self._wake
        if wake is not None:
            with contextlib.suppress(OSError):  # a full pipe already means "wake up"
                os.write(wake[1], b"w")

    # -- public helpers ------------------------------------------------------------------------

    def process_pending(self) -> int:
        """Handle every file now in `req`, in the calling thread, without waiting for files to
        settle (for tests). Returns how many were answered, rejected or dropped; files held by a
        maintenance fault stay in `req`."""
        done = 0
        for name, _ in self._listing():
            if not self._claim(name):
                continue
            try:
                outcome = self._handle(name)
            finally:
                self._release(name)
            done += outcome in ("answered", "dropped", "rejected")
        return done

    def held_files(self) -> list[str]:
        """Files waiting in `req` for a maintenance window to end."""
        with self._lock:
            return sorted(self._held)

    def write_face(self, body: bytes, name: str) -> Path:
        """Drop a card-reader result (`OQSsiquc01res_face_….xml`) into `face`, atomically."""
        if not name or Path(name).name != name or "\\" in name or is_ignored(name):
            raise ValueError(f"a plain file name not starting with '.' or '~' is expected, got {name!r}")
        return atomic_write(self.face, name, body)

    # -- watching ------------------------------------------------------------------------------

    def _open_inotify(self) -> Any:
        try:
            watcher = inotify_simple.INotify()
        except (OSError, AttributeError) as exc:  # AttributeError: a libc without inotify (macOS)
            log.warning("inotify unavailable (%s); falling back to polling %s", exc, self.req)
            return None
        try:
            self._add_watch(watcher)
        except OSError as exc:  # e.g. the fs.inotify.max_user_watches limit
            watcher.close()
            log.warning("cannot watch %s with inotify (%s); falling back to polling", self.req, exc)
            return None
        return watcher

    def _add_watch(self, watcher: Any) -> None:
        flags = inotify_simple.flags
        watcher.add_watch(self.req, flags.CLOSE_WRITE | flags.MOVED_TO)

    def _watch(self) -> None:
        try:
            self._watch_loop()
        except Exception:  # the watcher dying silently would stop all answers; say so loudly
            log.exception("folder watcher crashed; no further requests will be picked up")
            raise

    def _watch_loop(self) -> None:
        assert self._wake is not None
        wake_fd = self._wake[0]
        watcher = self._inotify
        fds = [wake_fd] if watcher is None else [wake_fd, watcher.fileno()]
        unsettled: dict[str, _Unsettled] = {}
        next_scan = 0.0
        # Files found by listing rather than by an event are taken once no writer has them open
        # (has_writer); where that cannot be told, once size, mtime and inode stayed unchanged for
        # a while: one poll interval for what was waiting at start, settle_seconds after that.
        settle = self.poll_interval
        while not self._stopping.is_set():
            now = time.monotonic()
            if now >= self._next_sweep:
                self._next_sweep = now + TRASH_SWEEP_SECONDS
                self.sweep_trash()
            if self._rescan_now or now >= next_scan:
                self._rescan_now = False
                self._scan(unsettled, now, settle)
                settle = max(self.poll_interval, self.settle_seconds)
                polling = watcher is None or unsettled
                next_scan = now + (self.poll_interval if polling else RESCAN_SECONDS)
            timeout = next_scan - time.monotonic()
            if self._release_held():
                timeout = min(timeout, self.poll_interval)
            readable, _, _ = select.select(fds, [], [], max(0.0, timeout))
            if wake_fd in readable:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_fd, 4096)
            if watcher is not None and watcher.fileno() in readable:
                for event in watcher.read(timeout=0):
                    self._on_event(event, unsettled)
                if unsettled:
                    next_scan = min(next_scan, time.monotonic() + self.poll_interval)

    def _on_event(self, event: Any, unsettled: dict[str, _Unsettled]) -> None:
        flags = inotify_simple.flags
        if event.mask & flags.Q_OVERFLOW:
            log.warning("inotify queue overflowed; rescanning %s", self.req)
            self._rescan_now = True
            return
        if event.mask & flags.IGNORED:  # the watch is gone: req was removed or unmounted
            log.warning("%s disappeared; recreating and watching it again", self.req)
            self._rescan_now = True
            try:
                self.ensure_folders()
                self._add_watch(self._inotify)
            except OSError:  # the safety rescans still pick files up, only slower
                log.exception("cannot watch %s again; relying on rescans every %gs", self.req, RESCAN_SECONDS)
            return
        name: str = event.name
        if not name or is_ignored(name):
            return
        try:
            info = os.lstat(self.req / name)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            return
        with self._lock:
            self._failed.pop(name, None)  # written again: worth another try
        if stat.S_ISREG(info.st_mode) and has_writer(self.req / name):
            # Closed by one writer, still open for writing by another: wait for the last close.
            unsettled[name] = _Unsettled(_signature(info), time.monotonic(), self.settle_seconds)
            return
        if info.st_size == 0 and stat.S_ISREG(info.st_mode):
            # Some writers create, close, then reopen to write; an empty file is never a request,
            # so give it the polling settle time before answering it as malformed.
            unsettled[name] = _Unsettled(_signature(info), time.monotonic(), self.poll_interval)
            return
        unsettled.pop(name, None)
        self._submit(name)

    def _scan(self, unsettled: dict[str, _Unsettled], now: float, settle: float) -> None:
        """Submit files whose size, mtime and inode stayed unchanged for their settle time."""
        listing = dict(self._listing())
        for name in list(unsettled):
            if name not in listing:
                del unsettled[name]
        with self._lock:
            for name in [n for n in self._failed if n not in listing]:
                del self._failed[name]  # answered or taken back meanwhile
            busy = self._inflight | self._held.keys()
            failed = dict(self._failed)
        for name, signature in listing.items():
            failure = failed.get(name)
            if name in busy or (failure is not None and failure.signature == signature and now < failure.retry_at):
                continue
            if failure is not None and failure.signature == signature:  # its retry is due
                unsettled.pop(name, None)
                self._submit(name)
                continue
            previous = unsettled.get(name)
            if previous is None or previous.signature != signature:
                unsettled[name] = _Unsettled(signature, now, settle)
                continue
            writer = has_writer(self.req / name)
            if writer:  # still being written, however long the writer pauses
                previous.since = now
            elif writer is False or now - previous.since >= previous.settle - 1e-3:
                del unsettled[name]
                self._submit(name)

    def _listing(self) -> list[tuple[str, Signature]]:
        out: list[tuple[str, Signature]] = []
        try:
            entries = list(os.scandir(self.req))
        except FileNotFoundError:
            self.ensure_folders()
            return out
        for entry in entries:
            if is_ignored(entry.name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)  # a link is judged as a link, not its target
            except FileNotFoundError:
                continue
            if not stat.S_ISDIR(info.st_mode):  # FIFOs, links, sockets: answered with a .err
                out.append((entry.name, _signature(info)))
        out.sort()  # sequence-numbered names are answered in the order they were numbered
        return out

    def _release_held(self) -> bool:
        """Submit held files whose maintenance window has ended; True while any are still held."""
        with self._lock:
            held = list(self._held.items())
        if not held:
            return False
        now = self.gateway.clock.now()
        for name, api_id in held:
            if self.gateway.faults.in_maintenance(api_id, TRANSPORT, now):
                continue
            with self._lock:
                self._held.pop(name, None)
            log.info("maintenance over for %s; processing %s", api_id, name)
            self._submit(name)
        with self._lock:
            return bool(self._held)

    # -- claiming ------------------------------------------------------------------------------

    def _claim(self, name: str) -> bool:
        with self._lock:
            if name in self._inflight:
                return False
            self._inflight.add(name)
            return True

    def _release(self, name: str) -> None:
        with self._lock:
            self._inflight.discard(name)

    def _submit(self, name: str) -> None:
        pool = self._pool
        if pool is None or not self._claim(name):
            return
        try:
            pool.submit(self._run, name)
        except RuntimeError:  # shutting down: the file stays in req for the next start
            self._release(name)

    def _run(self, name: str) -> None:
        try:
            self._handle(name)
        finally:
            self._release(name)

    # -- handling one file ---------------------------------------------------------------------

    def _handle(self, name: str) -> Outcome:
        try:
            outcome = self._handle_file(name)
        except Exception as exc:
            # Disk full, res/ not writable, …: leave the request where it is, try again later.
            self._failure(name, exc)
            return "failed"
        if outcome in ("answered", "dropped", "rejected"):
            with self._lock:
                self._failed.pop(name, None)
            self.problem = None
        return outcome

    def _failure(self, name: str, exc: Exception) -> None:
        try:
            signature = _signature(os.lstat(self.req / name))
        except OSError:
            return  # gone meanwhile: nothing to retry
        with self._lock:
            previous = self._failed.get(name)
            attempts = previous.attempts + 1 if previous is not None else 1
            wait = min(RETRY_MAX, RETRY_FIRST * 2 ** (attempts - 1))
            self._failed[name] = _Failure(signature, attempts, time.monotonic() + wait)
        self.problem = f"{self.res} not writable or full? cannot answer {printable(name)}: {exc}"
        log.warning("cannot answer %s (attempt %d): %s; retrying in %gs", printable(name), attempts, exc, wait)
        request = parse_request_name(name)
        self._journal(
            name,
            request.api_id if request else _api_guess(name),
            reason=f"not answered (attempt {attempts}, retry in {wait:g}s): {type(exc).__name__}: {exc}",
            fault="transport-failure",
        )

    def _journal(self, name: str, api_id: str, **facts: Any) -> None:
        """A folder event that did not go through the engine (a rejected file, a failed answer)."""
        self.gateway.journal.record(
            JournalEntry(
                id=0,
                at=format_timestamp(self.gateway.clock.now()),
                real_time=time.time(),
                transport=TRANSPORT,
                api_id=api_id,
                name=name,
                medical_institution=None,
                request=facts.pop("request", b""),
                **facts,
            )
        )

    def _handle_file(self, name: str) -> Outcome:
        path = self.req / name
        request = parse_request_name(name)
        if request is not None and self.gateway.faults.in_maintenance(
            request.api_id, TRANSPORT, self.gateway.clock.now()
        ):
            with self._lock:
                first = name not in self._held
                self._held[name] = request.api_id
            if first:
                log.info("maintenance for %s: holding %s in req", request.api_id, name)
            self.wake()
            return "held"
        try:
            # One byte over the limit is enough for the engine to answer "too large".
            raw = read_request(path, self.gateway.settings.max_request_bytes)
        except FileNotFoundError:  # already answered via another notification, or taken back
            return "gone"
        except NotRegular as exc:
            self._reject(
                name, b"", "file.kind", f"{printable(name)}: {exc.reason}", api_id=_api_guess(name), regular=False
            )
            return "rejected"
        if request is None:
            self._reject(name, raw, "file.name", explain_name(name), api_id=_api_guess(name))
            return "rejected"
        xml = raw
        if request.container == "zip":
            try:
                xml = unzip_single_xml(raw, self.gateway.settings.max_request_bytes)
            except ContainerError as exc:
                self._reject(name, raw, "file.container", str(exc), api_id=request.api_id)
                return "rejected"
        response = self.gateway.process(request.api_id, xml, fmt=Format.XML, transport=TRANSPORT, name=name)
        if response.delay > 0 and self._stopping.wait(response.delay):
            log.info("stopping during the latency fault for %s; it stays in req", name)
            return "abandoned"
        if response.action == "drop":
            # A lost response: the terminal took the request and never answered.
            log.info("drop fault: no result for %s (journal #%d)", name, response.entry.id)
        else:
            atomic_write(self.res, request.result_name(response.extension), response.body)
        self._to_trash(name)
        log.debug("answered %s (journal #%d)", name, response.entry.id)
        return "dropped" if response.action == "drop" else "answered"

    def _reject(self, name: str, raw: bytes, code_name: str, detail: str, *, api_id: str, regular: bool = True) -> None:
        """The request itself goes to `res` with a companion `<name>.err` ([AG], §1.1). What is not a
        plain file (a link, a FIFO) goes to `trash` instead: res/ never gets a link pointing anywhere."""
        codes = self.gateway.codes
        template = codes.get(code_name) if code_name in codes.names() else DEFAULT_CODES[code_name]
        code = template.format(detail=printable(detail))
        text = (
            f"ErrorCode: {code.code}\r\n"
            f"ErrorMessage: {printable(code.message)}\r\n"
            f"FileName: {printable(name)}\r\n"
            "Expected: <API識別ID>req_<任意の文字列>.xml (暗号化設定時は .zip)"
            " 例 OQSsiquc01req_202611230001.xml\r\n"
        )
        body = text.encode("utf-8")
        atomic_write(self.res, fit_name(name, ".err"), body)  # first, so the .err exists once the request shows
        if regular:
            os.replace(self.req / name, self.res / name)
        else:
            self._to_trash(name)
        self._journal(
            name,
            api_id,
            request=raw,
            response=body,
            segment=SegmentOfResult.ABNORMAL.value,
            reason=f"{code.code} {code.message}",
        )
        log.info("rejected %s: %s", name, code.message)

    def _to_trash(self, name: str) -> None:
        with self._trash_lock:  # so two same-named requests never overwrite each other in trash
            os.replace(self.req / name, unique_path(self.trash, name))

    def sweep_trash(self, now: float | None = None) -> int:
        """Delete trash/ entries moved there more than trash_retention_days ago (0: keep all)."""
        if self.trash_retention_days <= 0:
            return 0
        cutoff = (time.time() if now is None else now) - self.trash_retention_days * 86400
        removed = 0
        try:
            entries = list(os.scandir(self.trash))
        except OSError:
            return 0
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                # ctime: when it was renamed into trash (mtime is when the client wrote it)
                if not stat.S_ISDIR(info.st_mode) and info.st_ctime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except OSError:
                continue
        if removed:
            log.info("trash: removed %d files older than %g days", removed, self.trash_retention_days)
        return removed


def _signature(info: os.stat_result) -> Signature:
    return (info.st_size, info.st_mtime_ns, info.st_ino)


def _api_guess(name: str) -> str:
    """The API id of a misnamed file, for journal filtering ("" when there is none)."""
    head, sep, _ = name.partition("req_")
    return head if sep and head.isalnum() else ""


__all__ = ["DEFAULT_CODES", "FOLDERS", "TRANSPORT", "FolderTransport", "RequestName", "parse_request_name"]
