"""File-level pieces of the folder transport: names, stale temporaries, trash, ZIP containers.

The atomic write itself is mockgateway/store/files.py (the face reader writes through it too).

Kept apart from the watcher (folder.py) so they can be used and tested without threads.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import itertools
import os
import re
import stat
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from mockgateway.store.files import TEMP_PREFIX, TEMP_SUFFIX

# <API-ID>req_<suffix>.xml|zip (§1.2: "ファイル名の例" <API-ID>(req|res)_xxx.xml|zip|pdf). The API id is
# letters + 2 digits (OQSsiquc01, OQSmuquc02, YZKsiquc01); the suffix is free-form in practice.
# The extension is matched case-insensitively because the real terminal is a Windows program.
REQUEST_NAME = re.compile(r"(?P<api>[A-Za-z]+[0-9]{2})req_(?P<suffix>.*)\.(?P<ext>(?i:xml|zip))", re.DOTALL)
_trash_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class RequestName:
    name: str
    api_id: str  # the part before "req_", e.g. OQSsiquc01
    container: str  # "xml" or "zip" (lower case)
    extension: str  # as spelt in the name, without the dot

    def result_name(self, extension: str) -> str:
        """`req_` → `res_` (first occurrence) and the result's extension (".xml", ".zip", ".pdf")."""
        base = self.name[: -len(self.extension) - 1].replace("req_", "res_", 1)
        if extension.lower() == f".{self.extension.lower()}":
            extension = f".{self.extension}"  # a client that wrote .XML looks for .XML
        return base + extension


def parse_request_name(name: str) -> RequestName | None:
    match = REQUEST_NAME.fullmatch(name)
    if match is None:
        return None
    ext = match.group("ext")
    return RequestName(name=name, api_id=match.group("api"), container=ext.lower(), extension=ext)


def is_ignored(name: str) -> bool:
    """Files a writer has not finished: dot/tilde temporaries and `*.tmp` (write-then-rename)."""
    return name.startswith((".", "~")) or name.lower().endswith(TEMP_SUFFIX)


def explain_name(name: str) -> str:
    """Why `name` is not a request file name, in the interface's terms."""
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in ("xml", "zip"):
        got = f".{ext}" if dot else "拡張子なし"
        return f"{name}: 拡張子は .xml または .zip です (送信 {got})"
    if "req_" not in stem:
        if "res_" in stem:
            return f"{name}: 結果ファイル名 (res_) です。要求ファイルは <API識別ID>req_… です"
        return f"{name}: 'req_' がありません (期待 <API識別ID>req_<任意>.{ext})"
    api = stem.split("req_", 1)[0]
    return f"{name}: API識別ID {api!r} は英字と2桁の数字です (例 OQSsiquc01)"


def remove_stale_temp_files(directory: Path) -> int:
    """Temporary files left by a crash in the middle of atomic_write (ours only)."""
    removed = 0
    for entry in os.scandir(directory):
        if entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed


def unique_path(directory: Path, name: str) -> Path:
    """`directory/name`, or `stem.<yyyyMMddHHmmss>-<n>.ext` when that is taken (trash keeps every copy)."""
    target = directory / name
    while target.exists():
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        stamp = time.strftime("%Y%m%d%H%M%S")
        target = directory / fit_name(stem, f".{stamp}-{next(_trash_ids)}{dot}{ext}")
    return target


NAME_MAX = 255  # bytes per file name on Linux file systems


def fit_name(stem: str, tail: str) -> str:
    """`stem + tail`, with the stem shortened (and marked by a digest of it) when the name would pass
    NAME_MAX bytes: a request named with 252 bytes still gets its `.err` and its place in trash."""
    name = stem + tail
    if len(os.fsencode(name)) <= NAME_MAX:
        return name
    digest = hashlib.sha256(os.fsencode(stem)).hexdigest()[:12]
    budget = NAME_MAX - len(os.fsencode(tail)) - len(digest) - 1
    raw = os.fsencode(stem)[: max(0, budget)]
    return os.fsdecode(raw.decode("utf-8", "ignore").encode("utf-8")) + "~" + digest + tail


def printable(text: str) -> str:
    """One line of text whatever the name held: control characters (a newline could forge lines of
    an `.err`) and bytes that are not UTF-8 (os.fsdecode's surrogate escapes) are shown as escapes."""
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a raw byte of a name that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


class NotRegular(OSError):
    """What is in req/ under a request name is not a plain file; `reason` says what it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_KINDS = (
    (stat.S_ISDIR, "フォルダ"),
    (stat.S_ISFIFO, "名前付きパイプ (FIFO)"),
    (stat.S_ISSOCK, "ソケット"),
    (stat.S_ISCHR, "キャラクタデバイス"),
    (stat.S_ISBLK, "ブロックデバイス"),
    (stat.S_ISLNK, "シンボリックリンク"),
)


def kind_of(mode: int) -> str:
    return next((label for test, label in _KINDS if test(mode)), "通常ファイルでないもの")


def read_request(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a request file, opened so that nothing in req/ can hang or mislead us:
    O_NOFOLLOW (a symlink to /etc/passwd is refused, never read), O_NONBLOCK (a FIFO cannot block
    the open), and S_ISREG checked on the opened descriptor (what was renamed in is what we check)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegular("シンボリックリンク") from None
        if exc.errno == errno.ENXIO:  # a socket
            raise NotRegular("ソケット") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(kind_of(info.st_mode))
        os.set_blocking(fd, True)
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


F_SETLEASE = getattr(fcntl, "F_SETLEASE", 1024)  # Linux; the value is fixed by the kernel ABI


def has_writer(path: Path) -> bool | None:
    """Is the file open for writing by anyone? Asked with a read lease, which the kernel grants only
    when no process has the file open for writing. None: cannot tell (not the file's owner without
    CAP_LEASE, a file system without leases, not Linux): the caller falls back to a settle time."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            fcntl.fcntl(fd, F_SETLEASE, fcntl.F_RDLCK)
        except OSError as exc:
            return True if exc.errno in (errno.EAGAIN, errno.EBUSY) else None
        fcntl.fcntl(fd, F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


class ContainerError(ValueError):
    pass


def unzip_single_xml(data: bytes, limit: int) -> bytes:
    """The one XML inside a password-less ZIP (the encrypted-exchange container, §1.1)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ContainerError("ZIP形式ではありません") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) != 1 or not members[0].filename.lower().endswith(".xml"):
            listed = ", ".join(info.filename for info in members) or "なし"
            raise ContainerError(f"XMLファイルを1つだけ含むZIPが必要です (含まれていたもの: {listed})")
        member = members[0]
        if member.flag_bits & 0x1:
            raise ContainerError(
                "パスワード付き(暗号化)ZIPには対応していません。encrypt.conf で n (非暗号化) にしてください"
            )
        if member.file_size > limit:
            raise ContainerError(f"{member.filename}: {member.file_size} バイトは上限 {limit} バイトを超えます")
        try:
            with archive.open(member) as handle:
                content = handle.read(limit + 1)  # the declared size may lie
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, zlib.error) as exc:
            raise ContainerError(f"{member.filename}: 展開できません ({exc})") from None
        if len(content) > limit:
            raise ContainerError(f"{member.filename}: 展開後のサイズが上限 {limit} バイトを超えます")
        return content
