"""Soak: a real `mockgateway serve` under mixed traffic for N minutes; prints, every minute, the
server's RSS, open file descriptors and threads, and what the traffic got (docs/reliability.md).

Traffic, all at once, each at a steady rate:
- HTTP: 資格確認 on the convenience route (several people, valid and near misses), and the Web API
  (login, then searches with the token) on the plain port (`--webapi-plain`);
- folder: request files renamed into req/, answered into res/ (the results are read and removed,
  as a client does);
- admin: status, journal reads, clock advances and resets, a fault added and removed, a fixture
  reload, /health.

Not a test: it asserts nothing, it prints figures. Run it for minutes on a quiet machine:

    .venv/bin/python benchmarks/bench_soak.py --minutes 5 --http-rate 200 --files-rate 20
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wrklib import free_port

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "soak-admin-token"
PEOPLE = [  # (InsurerNumber, 記号, 番号, 枝番, 生年月日) of the shipped personas; the last is a near miss
    ("01139997", "12-34", "5678", "00", "19800401"),
    ("  139998", "国保", "1001", "00", "19550505"),
    ("06139992", "7001", "42", "00", "19900909"),
    ("01139997", "12-34", "5678", "00", "19800402"),
]


def xml_request(person: tuple[str, ...], n: int) -> bytes:
    insurer, symbol, number, branch, born = person
    return (
        '<?xml version="1.0" encoding="UTF-8"?><XmlMsg><MessageHeader>'
        "<QualificationConfirmationDate>20261123</QualificationConfirmationDate>"
        "<MedicalInstitutionCode>1310112345</MedicalInstitutionCode>"
        f"<ArbitraryFileIdentifier>S{n:08d}</ArbitraryFileIdentifier></MessageHeader>"
        "<MessageBody><QualificationConfirmSearchInfo>"
        f"<InsurerNumber>{insurer}</InsurerNumber><InsuredCardSymbol>{symbol}</InsuredCardSymbol>"
        f"<InsuredIdentificationNumber>{number}</InsuredIdentificationNumber>"
        f"<InsuredBranchNumber>{branch}</InsuredBranchNumber><Birthdate>{born}</Birthdate>"
        "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    ).encode()


def json_request(person: tuple[str, ...]) -> bytes:
    insurer, symbol, number, branch, born = person
    return json.dumps({"XmlMsg": {
        "MessageHeader": {"QualificationConfirmationDate": "20261123", "MedicalInstitutionCode": "1310112345"},
        "MessageBody": {"QualificationConfirmSearchInfo": {"InsurerNumber": insurer, "InsuredCardSymbol": symbol,
                        "InsuredIdentificationNumber": number, "InsuredBranchNumber": branch, "Birthdate": born}},
    }}, ensure_ascii=False).encode()  # fmt: skip


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def take(self) -> Counter[str]:
        with self.lock:
            out, self.counts = self.counts, Counter()
        return out


def paced(rate: float, stop: threading.Event, step: object) -> None:
    """Call step() `rate` times a second until stop (catching up after a slow call, never bursting)."""
    interval = 1.0 / rate
    due = time.monotonic()
    while not stop.is_set():
        step()  # type: ignore[operator]
        due = max(due + interval, time.monotonic() - 1.0)
        delay = due - time.monotonic()
        if delay > 0:
            stop.wait(delay)


def http_worker(port: int, rate: float, stop: threading.Event, tally: Tally, webapi: bool) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    n = [0]
    token = [""]

    def request(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            tally.add("http.connection-error")
            return 0, b""

    def step() -> None:
        n[0] += 1
        person = PEOPLE[n[0] % len(PEOPLE)]
        if not webapi:
            status, _ = request("POST", "/oqs/OQSsiquc01", xml_request(person, n[0]), {})
            tally.add(f"http {status}")
            return
        if not token[0] or n[0] % 500 == 0:  # log in again now and then
            status, body = request("POST", "/oqs-api-pro/MSA12020/ILI12020SV01/auth",
                                   b'{"MedicalInstitutionCode": "1310112345"}', {})  # fmt: skip
            tally.add(f"webapi-login {status}")
            if status == 200:
                token[0] = json.loads(body)["result"]["idToken"]
            return
        status, _ = request("POST", "/oqs-api-pro/MSA01030/ILI01030SV01/search", json_request(person),
                            {"Authorization": token[0], "Content-Type": "application/json"})  # fmt: skip
        if status == 401:
            token[0] = ""
        tally.add(f"webapi {status}")

    paced(rate, stop, step)
    conn.close()


def folder_worker(root: Path, rate: float, stop: threading.Event, tally: Tally) -> None:
    req, res = root / "req", root / "res"
    n = [0]

    def step() -> None:
        n[0] += 1
        name = f"OQSsiquc01req_soak{n[0]:09d}.xml"
        temp = req / f".{name}.part"
        temp.write_bytes(xml_request(PEOPLE[n[0] % len(PEOPLE)], n[0]))
        os.replace(temp, req / name)
        tally.add("folder sent")
        for entry in os.scandir(res):  # read and remove results, as a client does
            if entry.name.startswith("OQSsiquc01res_soak"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    tally.add("folder answered")

    paced(rate, stop, step)


def admin_worker(port: int, stop: threading.Event, tally: Tally) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    calls = [
        ("GET", "/admin/status", None),
        ("GET", "/admin/journal?limit=50", None),
        ("POST", "/admin/clock/advance", {"minutes": 1}),
        ("POST", "/admin/faults", {"kind": "latency", "latency_ms": 5, "api_id": "OQSsiquc01", "times": 20}),
        ("GET", "/health", None),
        ("DELETE", "/admin/faults", None),
        ("POST", "/admin/clock", {"now": "20261123100000", "running": True}),
        ("POST", "/admin/clock", {"rate": 1e308}),  # refused (400), as it must be
        ("GET", "/admin/faults", None),
    ]
    i = [0]

    def step() -> None:
        method, path, body = calls[i[0] % len(calls)]
        i[0] += 1
        data = None if body is None else json.dumps(body).encode()
        try:
            conn.request(method, path, body=data, headers={"X-Admin-Token": ADMIN})
            answer = conn.getresponse()
            answer.read()
            tally.add(f"admin {answer.status}")
        except (OSError, http.client.HTTPException):
            conn.close()
            tally.add("admin connection-error")

    paced(2.0, stop, step)


def proc_figures(pid: int) -> tuple[float, int, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss_mb = int(fields["VmRSS"].split()[0]) / 1024
    threads = int(fields["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_mb, fds, threads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--http-rate", type=float, default=200.0, help="convenience-route requests per second")
    parser.add_argument("--webapi-rate", type=float, default=50.0, help="Web API calls per second")
    parser.add_argument("--files-rate", type=float, default=20.0, help="request files per second")
    parser.add_argument("--http-clients", type=int, default=4, help="connections sharing --http-rate")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mg-soak-") as tmp:
        root = Path(tmp) / "oqs"
        port = free_port()
        cmd = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--http-port", str(port),
               "--tls-port", "0", "--webapi-plain", "--admin-token", ADMIN]  # fmt: skip
        log = (Path(tmp) / "serve.log").open("wb")
        server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with contextlib.closing(http.client.HTTPConnection("127.0.0.1", port, timeout=2)) as c:
                        c.request("GET", "/health")
                        if c.getresponse().status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the gateway did not start:\n" + (Path(tmp) / "serve.log").read_text())
                time.sleep(0.2)
            stop = threading.Event()
            tally = Tally()
            workers = [
                threading.Thread(
                    target=http_worker, args=(port, args.http_rate / args.http_clients, stop, tally, False)
                )
                for _ in range(args.http_clients)
            ]
            workers.append(threading.Thread(target=http_worker, args=(port, args.webapi_rate, stop, tally, True)))
            workers.append(threading.Thread(target=folder_worker, args=(root, args.files_rate, stop, tally)))
            workers.append(threading.Thread(target=admin_worker, args=(port, stop, tally)))
            print(f"soak: {args.minutes:g} min, HTTP {args.http_rate:g}/s, Web API {args.webapi_rate:g}/s, "
                  f"files {args.files_rate:g}/s, admin 2/s; server pid {server.pid}", flush=True)  # fmt: skip
            rss, fds, threads = proc_figures(server.pid)
            print(f"min  0: RSS {rss:7.1f} MB  fds {fds:4d}  threads {threads:3d}  (before traffic)", flush=True)
            for worker in workers:
                worker.start()
            started = time.monotonic()
            minute = 0
            while minute < args.minutes:
                minute += 1
                stop.wait(max(0.0, started + 60 * minute - time.monotonic()))
                rss, fds, threads = proc_figures(server.pid)
                counts = tally.take()
                pending = len([e for e in os.scandir(root / "req") if not e.name.startswith(".")])
                traffic = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
                print(f"min {minute:2d}: RSS {rss:7.1f} MB  fds {fds:4d}  threads {threads:3d}  "
                      f"req/ waiting {pending:3d}  | {traffic}", flush=True)  # fmt: skip
            stop.set()
            for worker in workers:
                worker.join(60)
            errors = [line for line in (Path(tmp) / "serve.log").read_text(errors="replace").splitlines()
                      if "Traceback" in line or line.startswith("ERROR")]  # fmt: skip
            print(f"server log: {len(errors)} ERROR/Traceback lines" + (f"; first: {errors[0]}" if errors else ""))
        finally:
            server.terminate()
            server.wait(30)
            log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
