"""The reference folder client: writes into `req` atomically and waits for `res`, as real
レセコン do (OQSDrug2-style: result name = request name with req → res)."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from mockgateway.wire import xmlcodec
from mockgateway.wire.xmlcodec import Tree


class ClientTimeout(TimeoutError):
    pass


@dataclass(frozen=True, slots=True)
class Exchange:
    request_name: str
    result_name: str
    raw: bytes
    tree: Tree
    encoding: str


class FolderClient:
    _seq = itertools.count(1)

    def __init__(self, root: Path, *, timeout: float = 15.0, poll: float = 0.01) -> None:
        self.root = Path(root)
        self.timeout = timeout
        self.poll = poll

    def send(self, api_id: str, body: bytes, suffix: str | None = None) -> str:
        """Write `<api_id>req_<suffix>.xml` by temp-file and rename, so the terminal never reads half."""
        name = f"{api_id}req_{suffix or self._suffix()}.xml"
        req = self.root / "req"
        temp = req / f".{name}.part"
        temp.write_bytes(body)
        os.replace(temp, req / name)
        return name

    def wait(self, request_name: str, extensions: tuple[str, ...] = (".xml", ".zip", ".pdf")) -> Path:
        stem = request_name.rsplit(".", 1)[0].replace("req_", "res_", 1)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for ext in extensions:
                path = self.root / "res" / (stem + ext)
                if path.exists():
                    return path
            err = self.root / "res" / (request_name + ".err")
            if err.exists():
                raise ClientTimeout(f"the terminal refused {request_name}: {err.read_text(encoding='utf-8')}")
            time.sleep(self.poll)
        raise ClientTimeout(f"no result for {request_name} in res/ after {self.timeout} s")

    def exchange(self, api_id: str, body: bytes) -> Exchange:
        name = self.send(api_id, body)
        path = self.wait(name)
        raw = path.read_bytes()
        parsed = xmlcodec.parse(raw)
        return Exchange(name, path.name, raw, parsed.tree, parsed.encoding)

    @classmethod
    def _suffix(cls) -> str:
        return f"{time.strftime('%Y%m%d')}{os.getpid() % 10000:04d}{next(cls._seq):06d}"
