"""Which HTTP server for the plain-HTTP hot path: the server's CPU per request with the real engine.

Not a test. Every candidate serves `POST /oqs/{API_ID}` with the same `Gateway.process` (same
store, journal on), one process, and is driven by the same wrk script (--people different people,
every XML answer checked against the engine's own); the candidates take turns, --runs rounds, so
each is measured in the same minutes as the others. The figure that decides is `cpu_us`, the
server process's CPU per answered request: on a shared machine requests/s moves with the
neighbours' load, CPU per request hardly does.

- shipped: `mockgateway serve` as shipped (transports/plainhttp.py: asyncio + httptools on uvloop,
  the hot routes answered without a task);
- granian: the same HttpApp under granian's embedded RSGI server (what shipped before issue 16,
  and what still serves the TLS listeners);
- asyncio+httptools: a minimal asyncio Protocol on uvloop with httptools parsing (the hot route only);
- uvicorn: uvicorn with httptools + uvloop and a raw ASGI app (no framework, the hot route only).

The choice and the figures are in docs/design.md and docs/performance.md.

    .venv/bin/pip install uvicorn   # the last challenger only
    .venv/bin/python benchmarks/bench_servers.py --db var/bench/population.sqlite3 [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_scale
from bench_scale import ROOT, expected_answers, gateway, request_bodies, wait_http
from wrklib import free_port, lua

CHALLENGER = r"""
import asyncio, sys, tempfile
from pathlib import Path
from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.engine import Format
kind, db, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
g = build_gateway(Config(root=Path(tempfile.mkdtemp()), db=Path(db), tls_port=None, folder=False, fixtures=[]))
import gc; gc.collect(); gc.freeze()
process = g.process

def answer(path: bytes, body: bytes) -> bytes:
    if path.startswith(b"/oqs/"):
        r = process(path[5:].decode(), body, fmt=Format.XML, transport="http", name=path.decode())
        return (b"HTTP/1.1 200 OK\r\ncontent-type: " + r.media_type.encode() + b"\r\ncontent-length: "
                + str(len(r.body)).encode() + b"\r\n\r\n" + r.body)
    return b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"

if kind == "asyncio+httptools":
    import httptools, uvloop

    class Proto(asyncio.Protocol):
        def connection_made(self, transport):
            self.t = transport
            self.p = httptools.HttpRequestParser(self)
            self.body = []
        def data_received(self, data):
            try:
                self.p.feed_data(data)
            except httptools.HttpParserError:
                self.t.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                self.t.close()
        def on_url(self, url):
            self.url = url
        def on_body(self, body):
            self.body.append(body)
        def on_message_complete(self):
            self.t.write(answer(self.url, b"".join(self.body)))
            self.body = []

    async def main():
        server = await asyncio.get_running_loop().create_server(Proto, "127.0.0.1", port, backlog=1024)
        await server.serve_forever()
    uvloop.run(main())
elif kind == "granian":
    import datetime as dt
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server
    from mockgateway.control.tokens import TokenBook
    from mockgateway.transports.http import HttpApp

    app = HttpApp(g, TokenBook(dt.timedelta(hours=1)), webapi=False)

    async def main():
        await Server(app, address="127.0.0.1", port=port, interface=Interfaces.RSGI, log_level=LogLevels.warning,
                     backlog=1024).serve()
    asyncio.run(main())
else:
    import uvicorn

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"]
        if path.startswith("/oqs/"):
            r = process(path[5:], b"".join(chunks), fmt=Format.XML, transport="http", name=path)
            body, ctype = r.body, r.media_type.encode()
        else:
            body, ctype = b"ok", b"text/plain"
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", ctype)]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning",
                access_log=False, backlog=1024)
"""


def run_challenger(kind: str, db: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", CHALLENGER, kind, str(db), str(port)], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/health")
    return url, proc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "population.sqlite3")
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--kinds", default="shipped,granian,asyncio+httptools,uvicorn", help="comma-separated")
    args = ap.parse_args()
    args.work = tempfile.mkdtemp(prefix="mg-servers-")
    print(f"machine: {bench_scale.machine()}; load average before: {bench_scale.load_average()}")
    _as_of, bodies = request_bodies(args.db, args.people)
    expected_answers(args.db, bodies, args)
    script = Path(args.work) / "xml.lua"
    script.write_bytes(
        lua("/oqs/OQSsiquc01", [x for x, _ in bodies], {"Content-Type": "application/xml"}).encode("utf-8")
        + (Path(args.work) / "check.lua").read_bytes()
    )
    kinds = args.kinds.split(",")
    figures: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}

    def drive(url: str, pid: int, seconds: int) -> dict[str, float]:
        return bench_scale.wrk(script, url, argparse.Namespace(**{**vars(args), "duration": seconds}), [pid])

    def warm(url: str, pid: int) -> None:
        """Until every person of the mix has been met twice: the figures are of the warm path."""
        done = 0.0
        while done < 2 * len(bodies):
            done += drive(url, pid, args.warmup)["requests"]

    for _ in range(args.runs):
        for kind in kinds:
            if kind == "shipped":
                with gateway(args.db, 1, ["--no-folder"]) as (url, server, _ready, _root):
                    warm(url, server.pid)
                    figures[kind].append(drive(url, server.pid, args.duration))
            else:
                url, proc = run_challenger(kind, args.db)
                try:
                    warm(url, proc.pid)
                    figures[kind].append(drive(url, proc.pid, args.duration))
                finally:
                    proc.terminate()
                    proc.wait(10)
            last = figures[kind][-1]
            print(f"  {kind}: {last['rps']:,.0f} req/s, {last['cpu_us']:.0f} µs CPU/request, "
                  f"p99 {last['p99']:.1f} ms, wrong {last.get('wrong', -1):.0f}", flush=True)  # fmt: skip
        time.sleep(0.5)
    summary = {k: {f: statistics.median(r[f] for r in runs) for f in ("rps", "cpu_us", "p50", "p99")}
               for k, runs in figures.items()}  # fmt: skip
    print("medians:", json.dumps(summary, indent=1))
    print(f"load average after: {bench_scale.load_average()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
