"""Run a locust profile headless against a local gateway, bounded in time; CSV and HTML reports.

    .venv/bin/python -m loadtests.run --profile 2024-04 --scale 1 --duration 60 \\
        --db var/load/population.sqlite3 --size 1000000 --start-gateway --out reports/load-2024-04

--size generates the population first when --db does not hold one; --start-gateway starts
`mockgateway serve` on a free loopback port (admin token, plain-HTTP Web API, card keys cached
under the db's directory) and stops it afterwards. The exit code is locust's: 0 when the
thresholds (--max-fail-ratio, --max-p99-ms, --min-rps-ratio) are met. Only loopback targets.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from mockgateway.control.tokens import new_admin_token

HERE = Path(__file__).resolve().parent
LOOPBACK = ("http://127.0.0.1", "http://localhost", "http://[::1]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _shown(cmd: list[str], token: str) -> str:
    """The command line as printed: the admin token never appears (logs of CI runs are public)."""
    return " ".join(cmd).replace(token, "***") if token else " ".join(cmd)


def wait_ready(url: str, timeout: float, server: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.poll() is not None:
            raise SystemExit(f"the gateway exited with {server.returncode} (see its log)")
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the gateway did not answer {url}/health within {timeout:g} s")


def _population(args: argparse.Namespace) -> None:
    if args.size and not _has_population(args.db):
        cmd = [sys.executable, "-m", "mockgateway", "population", "generate", "--size", str(args.size),
               "--seed", str(args.seed), "--db", str(args.db)]  # fmt: skip
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
    if not _has_population(args.db):
        raise SystemExit(f"{args.db}: no generated population (give --size to generate one)")


def _has_population(db: Path) -> bool:
    import sqlite3

    if not db.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return con.execute("SELECT 1 FROM population_meta WHERE key = 'config'").fetchone() is not None
        finally:
            con.close()
    except sqlite3.Error:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="2024-04")
    ap.add_argument("--shape", default="day", choices=["day", "peak", "average"])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--duration", type=int, default=60, help="seconds (the whole run is bounded by this + 60 s)")
    ap.add_argument("--db", type=Path, default=Path("var/load/population.sqlite3"))
    ap.add_argument("--size", type=int, default=0, help="generate this many people if --db has none")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--host", help="a running gateway (loopback), instead of --start-gateway")
    ap.add_argument("--admin-token", default=os.environ.get("MOCKGATEWAY_ADMIN_TOKEN", ""))
    ap.add_argument("--start-gateway", action="store_true")
    ap.add_argument(
        "--gateway-args", default="", help="extra `mockgateway serve` arguments, e.g. '--latency realistic'"
    )
    ap.add_argument("--processes", type=int, default=1, help="locust --processes (one machine)")
    ap.add_argument("--out", default="reports/load", help="CSV prefix; the HTML report is OUT.html")
    ap.add_argument("--max-fail-ratio", type=float, default=0.0)
    ap.add_argument("--max-p99-ms", type=float, default=0.0)
    ap.add_argument("--min-rps-ratio", type=float, default=0.0)
    ap.add_argument("locust_args", nargs="*", help="more locust options after --")
    args = ap.parse_args(argv)
    if args.host and not args.host.startswith(LOOPBACK):
        raise SystemExit(f"{args.host}: loopback targets only")
    if not shutil.which("locust") and not (Path(sys.executable).parent / "locust").exists():
        raise SystemExit("locust is not installed: pip install -e '.[load]'")
    _population(args)
    server = None
    log = None
    token = args.admin_token
    if args.start_gateway:
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        token = token or new_admin_token()
        root = args.db.parent / "gateway"
        root.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, MOCKGATEWAY_CARD_KEY_CACHE=str(args.db.parent / "card-keys"))
        cmd = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--db", str(args.db),
               "--http-port", str(port), "--tls-port", "0", "--webapi-plain", "--no-folder",
               f"--admin-token={token}", *args.gateway_args.split()]  # fmt: skip
        log = (args.db.parent / "gateway.log").open("wb")
        print("$", _shown(cmd, token), flush=True)
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        print(f"gateway ready in {wait_ready(host, 120, server):.1f} s at {host}", flush=True)
    elif args.host:
        host = args.host.rstrip("/")
    else:
        raise SystemExit("give --host of a running gateway or --start-gateway")
    if not host.startswith(LOOPBACK):
        raise SystemExit(f"{host}: loopback targets only")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless", "-H", host,
           "--mg-duration", str(args.duration), "--csv", args.out, "--html", f"{args.out}.html", "--only-summary",
           "--processes", str(args.processes),
           "--mg-profile", args.profile, "--mg-shape", args.shape, "--mg-scale", str(args.scale),
           "--mg-db", str(args.db), f"--mg-admin-token={token}",
           "--mg-max-fail-ratio", str(args.max_fail_ratio), "--mg-max-p99-ms", str(args.max_p99_ms),
           "--mg-min-rps-ratio", str(args.min_rps_ratio), *args.locust_args]  # fmt: skip
    if args.processes <= 1:
        cmd.remove("--processes")
        cmd.remove(str(args.processes))
    print("$", _shown(cmd, token), flush=True)
    try:
        result = subprocess.run(cmd, timeout=args.duration + 60, check=False)
        code = result.returncode
    except subprocess.TimeoutExpired:
        print("locust did not finish in time", file=sys.stderr)
        code = 2
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
        if log is not None:
            log.close()
    print(f"reports: {args.out}_stats.csv, {args.out}.html; exit {code}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
