"""HTTP benchmark: requests/s and latency percentiles for the convenience route and the Web API.

Not a test. Starts `mockgateway serve` as a subprocess (journal on, XML rendering, the default
personas), drives it with wrk (`scripts/bench-setup.sh` installs it) and prints figures.
The Web API is measured on the plain port (`--webapi-plain`): wrk cannot present client
certificates, so TLS cost is not in these figures.

    .venv/bin/python benchmarks/bench_http.py [--duration 10] [--runs 3] [--connections 64]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from wrklib import free_port, lua, parse_wrk

ADMIN = "bench-admin"
PEOPLE = [  # (insurer, symbol, number, branch, birthdate) from the shipped personas (mockgateway/data/personas)
    ("01139997", "12-34", "5678", "00", "19800401"),
    ("01139997", "12-34", "5678", "01", "19820715"),
    ("  139998", "模擬市", "100234", "00", "19650203"),
    ("06139992", "7001", "42", "00", "19900909"),
    ("06139992", "7001", "88", "00", "19880808"),
]


def xml_body(p: tuple[str, ...]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?><XmlMsg><MessageHeader>'
        "<QualificationConfirmationDate>20261123</QualificationConfirmationDate>"
        "<MedicalInstitutionCode>1310112345</MedicalInstitutionCode></MessageHeader><MessageBody>"
        f"<QualificationConfirmSearchInfo><InsurerNumber>{p[0]}</InsurerNumber><InsuredCardSymbol>{p[1]}"
        f"</InsuredCardSymbol><InsuredIdentificationNumber>{p[2]}</InsuredIdentificationNumber>"
        f"<InsuredBranchNumber>{p[3]}</InsuredBranchNumber><Birthdate>{p[4]}</Birthdate>"
        "</QualificationConfirmSearchInfo></MessageBody></XmlMsg>"
    )


def json_body(p: tuple[str, ...]) -> str:
    info = dict(zip(["InsurerNumber", "InsuredCardSymbol", "InsuredIdentificationNumber", "InsuredBranchNumber",
                     "Birthdate"], p, strict=True))  # fmt: skip
    header = {"QualificationConfirmationDate": "20261123", "MedicalInstitutionCode": "1310112345"}
    return json.dumps({"XmlMsg": {"MessageHeader": header, "MessageBody": {"QualificationConfirmSearchInfo": info}}})


def admin(port: int, path: str, body: dict[str, object]) -> dict[str, object]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
        headers={"X-Admin-Token": ADMIN, "Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"gateway did not listen on {port}")


def run_wrk(script: Path, port: int, args: argparse.Namespace, pin: str | None) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script),
           f"http://127.0.0.1:{port}"]  # fmt: skip
    if pin:
        cmd = ["taskset", "-c", pin, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out, (50, 75, 90, 99))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--pinned", action="store_true", help="server on core 1, wrk on core 0")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk not found: run scripts/bench-setup.sh as root", file=sys.stderr)
        return 2
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="mg-bench-"))
    cmd = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--http-port", str(port),
           "--tls-port", "0", "--webapi-plain", "--no-folder", "--admin-token", ADMIN]  # fmt: skip
    if args.pinned:
        cmd = ["taskset", "-c", "1", *cmd]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        admin(port, "/admin/clock", {"now": "20261123100000", "running": False})
        req = urllib.request.Request(f"http://127.0.0.1:{port}/oqs-api-pro/MSA12020/ILI12020SV01/auth",
                                     data=b'{"MedicalInstitutionCode": "1310112345"}', method="POST")  # fmt: skip
        with urllib.request.urlopen(req, timeout=10) as resp:
            token = json.loads(resp.read())["result"]["idToken"]
        cases = {
            "convenience route POST /oqs/OQSsiquc01 (XML)": lua(
                "/oqs/OQSsiquc01", [xml_body(p) for p in PEOPLE], {"Content-Type": "application/xml"}
            ),
            "Web API …/ILI01030SV01/search (JSON, plain HTTP)": lua(
                "/oqs-api-pro/MSA01030/ILI01030SV01/search",
                [json_body(p) for p in PEOPLE],
                {"Content-Type": "application/json;charset=UTF-8", "Authorization": token},
            ),
        }
        print(f"machine: {os.cpu_count()} cores; wrk -t1 -c{args.connections} -d{args.duration}s; "
              f"{'server pinned to core 1, wrk to core 0' if args.pinned else 'unpinned'}; "
              f"median of {args.runs} runs; journal on")  # fmt: skip
        for name, script_text in cases.items():
            script = root / "bench.lua"
            script.write_text(script_text, encoding="utf-8")
            runs = [run_wrk(script, port, args, "0" if args.pinned else None) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{name}: {med['rps']:,.0f} req/s, p50 {med.get('p50', 0):.2f} ms, "
                  f"p99 {med.get('p99', 0):.2f} ms, non-2xx {med['non2xx']:.0f}  "
                  f"(runs: {', '.join(format(r['rps'], ',.0f') for r in runs)})")  # fmt: skip
        print(f"server RSS after runs: {rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
