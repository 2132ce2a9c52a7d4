"""National scale: the gateway with 1,000,000 people, XML rendering, journal on, and the ceiling.

Not a test. Prints figures for docs/performance.md, each the median of --runs runs:

- start: `mockgateway serve` with the population until /health answers, and its RSS;
- engine: µs per OQSsiquc01 in process (no HTTP), 10,000 different people;
- ceiling: nginx answering a static ~1.5 KB body to the same wrk load (this machine, this run);
- HTTP: the convenience route (XML, Shift_JIS) and the Web API (JSON, plain HTTP) under wrk with
  10,000 different people, with --workers 1 and 2 (mockgateway.scaleout);
- folder: N request files dropped into req/ at once; results/s and drop → result latency;
- locust: one locust process at the national peak (`--mg-shape peak`), achieved rps and failures;
- bulk: 一括照会 of --bulk-records records (benchmarks/bench_bulk.py), records/s and the whole file.

Every HTTP figure also gives `cpu_us`, the server's CPU (all its processes) per answered request,
which stays comparable when other work competes for the cores; every XML answer wrk receives is
checked against the engine's own answer (`checked` / `wrong`). The figures go to a JSON file
(--json), and --compare prints them beside an earlier run's.

    scripts/bench-setup.sh   # wrk and nginx, as root
    .venv/bin/python benchmarks/bench_scale.py [--db var/bench/population.sqlite3] [--size 1000000]
        [--runs 3] [--duration 10] [--connections 64] [--workers 1,2] [--folder-files 5000]
        [--locust-seconds 30] [--bulk-records 100000] [--skip folder,locust,bulk]
        [--json reports/run.json] [--compare reports/earlier.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wrklib import answer_check, free_port, lua, parse_wrk

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin"
MIC = "1311234569"
VOLATILE = "ProcessExecutionTime"  # the one element of an answer that changes from run to run


# -- helpers --------------------------------------------------------------------------------------


def wait_http(url: str, timeout: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return time.monotonic() - started
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree_pids(pid: int) -> list[int]:
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += tree_pids(int(child))
    return out


def machine() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "?",
    )  # fmt: skip
    mem = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return (
        f"{os.cpu_count()} cores ({model}), {int(mem) / 1024 / 1024:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    )


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


# -- the population and the request bodies ------------------------------------------------------------


def ensure_population(db: Path, size: int, seed: int) -> dict[str, float]:
    """Generate unless `db` already holds a population of `size` people; time it if generated."""
    import sqlite3

    if db.exists():
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            row = con.execute("SELECT value FROM population_meta WHERE key = 'config'").fetchone()
            con.close()
            if row and json.loads(row[0])["size"] == size:
                return {}
        except sqlite3.Error:
            pass
    db.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "mockgateway", "population", "generate", "--size", str(size), "--seed", str(seed),
           "--db", str(db), "--quiet"]  # fmt: skip
    return run_sampled(cmd)


def run_sampled(cmd: list[str]) -> dict[str, float]:
    """Run `cmd`, sampling the RSS of its whole process tree every 0.1 s: wall time and peak RSS."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, rss_mb(tree_pids(process.pid)))
        time.sleep(0.1)
    wall = time.monotonic() - started
    out = process.stdout.read().decode() if process.stdout else ""
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}")
    worst = re.search(r"largest difference ([-+][\d.]+) pp", out)
    return {"seconds": wall, "peak_rss_mb": peak, "worst_pp": abs(float(worst.group(1))) if worst else float("nan")}


def request_bodies(db: Path, count: int) -> tuple[str, list[tuple[str, str]]]:
    """(as-of date, [(XML Shift_JIS request, JSON request)]) for `count` people drawn at random."""
    sys.path.insert(0, str(ROOT))
    from loadtests import bodies
    from loadtests.people import load_sample

    sample = load_sample(db, count, seed=7, facilities=1)
    out = []
    for p in sample.patients[:count]:
        xml = bodies.eligibility_xml(MIC, sample.as_of, p.keys, p.birthdate).decode("cp932")
        out.append((xml, bodies.eligibility_json(MIC, sample.as_of, p.keys, p.birthdate).decode()))
    return sample.as_of, out


def cpu_seconds(pids: list[int]) -> float:
    """user + system CPU seconds the processes have used so far (/proc/PID/stat, clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wrk(script: Path, url: str, args: argparse.Namespace, pids: list[int] | None = None) -> dict[str, float]:
    """One wrk run; with `pids`, also the server's CPU per answered request (`cpu_us`): unlike
    requests/s it hardly moves when other processes compete for the cores."""
    cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency", "-s", str(script), url]
    before = cpu_seconds(pids) if pids else 0.0
    out = parse_wrk(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    if pids and out.get("requests"):
        out["cpu_us"] = (cpu_seconds(pids) - before) / out["requests"] * 1e6
    return out


def measure(script: Path, url: str, args: argparse.Namespace, pids: list[int] | None = None) -> dict[str, float]:
    """After a warm-up long enough for every process to have met every person of the mix (their
    documents read and parsed, their answers rendered), the median of --runs wrk runs."""
    wrk(script, url, argparse.Namespace(**{**vars(args), "duration": args.warmup}))
    return median([wrk(script, url, args, pids) for _ in range(args.runs)])


# -- processes under test ------------------------------------------------------------------------------


@contextmanager
def gateway(
    db: Path, workers: int, extra: list[str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], float, Path]]:
    root = Path(tempfile.mkdtemp(prefix="mg-scale-"))
    port = free_port()
    cmd = [sys.executable, "-m", "mockgateway", "serve", "--root", str(root), "--db", str(db),
           "--http-port", str(port), "--tls-port", "0", "--webapi-plain", "--admin-token", ADMIN,
           "--workers", str(workers), *(extra or [])]  # fmt: skip
    log = (root / "serve.log").open("wb")
    started = time.monotonic()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/health")
        ready = time.monotonic() - started
        deadline = time.monotonic() + 120
        while workers > 1 and (root / "serve.log").read_text(errors="replace").count("replica") < workers - 1:
            if time.monotonic() > deadline:
                raise SystemExit("replicas did not start:\n" + (root / "serve.log").read_text(errors="replace"))
            time.sleep(0.05)
        yield url, server, ready, root
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def admin(url: str, path: str, body: object = None, method: str = "POST") -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"X-Admin-Token": ADMIN, "Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


@contextmanager
def nginx(body: bytes) -> Iterator[str]:
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        raise SystemExit("nginx not found: run scripts/bench-setup.sh as root")
    work = Path(tempfile.mkdtemp(prefix="mg-nginx-"))
    port = free_port()
    text = body.decode("utf-8").replace("'", "&apos;")
    (work / "nginx.conf").write_text(
        f"""worker_processes 2;
{"user root;" if os.geteuid() == 0 else ""}
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}/body;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type "application/xml; charset=UTF-8"; return 200 '{text}'; }}
  }}
}}
""",
        encoding="utf-8",
    )
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    server = subprocess.Popen([binary, "-p", str(work), "-c", str(work / "nginx.conf")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/")
        yield url
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


# -- the cases ---------------------------------------------------------------------------------------


def bench_start(db: Path, args: argparse.Namespace) -> dict[str, float]:
    runs = []
    for _ in range(args.runs):
        with gateway(db, 1, ["--no-folder"]) as (_url, server, ready, _root):
            time.sleep(0.5)
            runs.append({"seconds": ready, "rss_mb": rss_mb([server.pid])})
    return median(runs)


def bench_engine(db: Path, bodies: list[tuple[str, str]], args: argparse.Namespace) -> dict[str, float]:
    code = f"""
import time, tempfile, json, statistics
from pathlib import Path
from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.engine import Format
bodies = [b.encode("cp932") for b in json.load(open({str(Path(args.work) / "bodies.json")!r}))]
g = build_gateway(Config(root=Path(tempfile.mkdtemp()), db=Path({str(db)!r}), tls_port=None, folder=False, fixtures=[]))
import gc; gc.collect(); gc.freeze()  # as server.start does
cold = time.perf_counter()
for b in bodies: g.process("OQSsiquc01", b, fmt=Format.XML, transport="http")
cold = (time.perf_counter() - cold) / len(bodies) * 1e6
def warm():
    runs = []
    for _ in range({args.runs}):
        t = time.perf_counter()
        for b in bodies: g.process("OQSsiquc01", b, fmt=Format.XML, transport="http")
        runs.append((time.perf_counter() - t) / len(bodies) * 1e6)
    return statistics.median(runs)
remembered = warm()  # every answer from the answer memo
g.memo = None
built = warm()  # every answer built (people and their rendered parts already met)
print(json.dumps({{"cold_us": cold, "warm_us": remembered, "built_us": built}}))
"""
    (Path(args.work) / "bodies.json").write_text(json.dumps([x for x, _ in bodies]), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_http(
    db: Path, bodies: list[tuple[str, str]], workers: int, args: argparse.Namespace
) -> dict[str, dict[str, float]]:
    work = Path(args.work)
    xml_script, json_script = work / "xml.lua", work / "json.lua"
    xml_requests = lua("/oqs/OQSsiquc01", [x for x, _ in bodies], {"Content-Type": "application/xml"}).encode("utf-8")
    xml_script.write_bytes(xml_requests + (work / "check.lua").read_bytes())
    out: dict[str, dict[str, float]] = {}
    tls, search = free_port(), free_port()
    ports = ["--tls-port", str(tls), "--search-port", str(search)]
    with gateway(db, workers, ["--no-folder", *ports]) as (url, server, _ready, _root):
        pids = tree_pids(server.pid)
        req = urllib.request.Request(url + "/oqs-api-pro/MSA12020/ILI12020SV01/auth",
                                     data=f'{{"MedicalInstitutionCode": "{MIC}"}}'.encode(), method="POST")  # fmt: skip
        with urllib.request.urlopen(req, timeout=30) as resp:
            token = json.loads(resp.read())["result"]["idToken"]
        json_script.write_text(
            lua("/oqs-api-pro/MSA01030/ILI01030SV01/search", [j for _, j in bodies],
                {"Content-Type": "application/json;charset=UTF-8", "Authorization": token}),
            encoding="utf-8",
        )  # fmt: skip
        control_check(xml_requests, url, args)  # before the measured runs: the check can fail
        out["convenience route (XML)"] = measure(xml_script, url, args, pids)
        out["Web API (JSON, plain HTTP)"] = measure(json_script, url, args, pids)
        if "tls" not in args.skip:  # the search host: server certificate only, as the real one
            out["Web API (JSON, TLS search host)"] = measure(json_script, f"https://127.0.0.1:{search}", args, pids)
        out["convenience route (XML)"]["rss_mb"] = rss_mb(tree_pids(server.pid))
    if "built" not in args.skip:  # no answer memo: every answer built from the person (met before)
        with gateway(db, workers, ["--no-folder", "--answer-memo", "0"]) as (url, server, _ready, _root):
            name = "convenience route (XML), every answer built (--answer-memo 0)"
            out[name] = measure(xml_script, url, args, tree_pids(server.pid))
    return out


def expected_answers(db: Path, bodies: list[tuple[str, str]], args: argparse.Namespace) -> int:
    """The answer to every XML body, from the engine in process (same store, same clock): wrk's
    script then checks each answer the server gives against it (benchmarks/wrklib.answer_check)."""
    code = f"""
import json, re, tempfile
from pathlib import Path
from mockgateway.app import build_gateway
from mockgateway.config import Config
from mockgateway.engine import Format
work = Path({str(args.work)!r})
bodies = [b.encode("cp932") for b in json.loads((work / "bodies.json").read_text(encoding="utf-8"))]
g = build_gateway(Config(root=Path(tempfile.mkdtemp()), db=Path({str(db)!r}), tls_port=None, folder=False, fixtures=[]))
out = {{}}
for b in bodies:
    answer = g.process("OQSsiquc01", b, fmt=Format.XML, transport="http").body
    key = re.search(rb"<QualificationConfirmSearchInfo>(.*?)</QualificationConfirmSearchInfo>", answer, re.S).group(1)
    plain = re.sub(rb"<{VOLATILE}>[0-9]*</{VOLATILE}>", b"<{VOLATILE}></{VOLATILE}>", answer)
    out[key.decode("latin-1")] = plain.decode("latin-1")
(work / "expected.json").write_text(json.dumps(out), encoding="utf-8")
"""
    work = Path(args.work)
    (work / "bodies.json").write_text(json.dumps([x for x, _ in bodies]), encoding="utf-8")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    expected = json.loads((work / "expected.json").read_text(encoding="utf-8"))
    table = {k.encode("latin-1"): v.encode("latin-1") for k, v in expected.items()}
    (work / "check.lua").write_bytes(answer_check(table, VOLATILE.encode()))
    for poison in POISONS:
        (work / f"check-{poison}.lua").write_bytes(answer_check(table, VOLATILE.encode(), poison))
    return len(table)


POISONS = ("head", "tail", "rotate")


def control_check(requests: bytes, url: str, args: argparse.Namespace) -> None:
    """Prove the answer check can fail: one second of wrk sending `requests` (the XML script's
    request part) with each poisoned copy of the expected answers (wrklib.answer_check) must count
    every answer it gets wrong."""
    work = Path(args.work)
    for poison in POISONS:
        script = work / f"xml-{poison}.lua"
        script.write_bytes(requests + (work / f"check-{poison}.lua").read_bytes())
        m = wrk(script, url, argparse.Namespace(**{**vars(args), "duration": 1}))
        if not m.get("checked") or m.get("wrong") != m["checked"]:
            raise SystemExit(f"the answer check did not fail with poisoned answers ({poison}): {m}")


def bench_ceiling(sample_body: bytes, bodies: list[tuple[str, str]], args: argparse.Namespace) -> dict[str, float]:
    script = Path(args.work) / "nginx.lua"
    script.write_text(
        lua("/oqs/OQSsiquc01", [x for x, _ in bodies], {"Content-Type": "application/xml"}), encoding="utf-8"
    )
    with nginx(sample_body) as url:
        return measure(script, url, args)


def bench_folder(db: Path, bodies: list[tuple[str, str]], args: argparse.Namespace) -> dict[str, float]:
    runs = []
    for _ in range(args.runs):
        with gateway(db, 1) as (_url, _server, _ready, root):
            req, res = root / "req", root / "res"
            staging = root / "staging"
            staging.mkdir()
            n = args.folder_files
            written: dict[str, float] = {}
            for i in range(n):
                name = f"OQSsiquc01req_{i:08d}.xml"
                (staging / name).write_bytes(bodies[i % len(bodies)][0].encode("cp932"))
            started = time.monotonic()
            for i in range(n):
                name = f"OQSsiquc01req_{i:08d}.xml"
                os.rename(staging / name, req / name)  # atomic, as a careful client does
                written[name.replace("req_", "res_")] = time.time()
            seen: dict[str, float] = {}
            deadline = time.monotonic() + 600
            while len(seen) < n and time.monotonic() < deadline:
                for entry in os.scandir(res):
                    if entry.name not in seen and entry.name in written:
                        seen[entry.name] = entry.stat().st_mtime
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            lat = sorted((seen[k] - written[k]) * 1000 for k in seen)
            runs.append({
                "rps": len(seen) / elapsed,
                "p50": lat[len(lat) // 2] if lat else 0.0,
                "p99": lat[int(len(lat) * 0.99)] if lat else 0.0,
                "answered": float(len(seen)),
            })  # fmt: skip
    return median(runs)


def bench_locust(db: Path, args: argparse.Namespace) -> dict[str, float]:
    if shutil.which("locust") is None and not (Path(sys.executable).parent / "locust").exists():
        return {}
    out_prefix = Path(args.work) / "locust"
    with gateway(db, 2, ["--no-folder"]) as (url, _server, _ready, _root):
        cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"), "--headless", "-H", url,
               "-t", f"{args.locust_seconds}s", "--csv", str(out_prefix), "--only-summary",
               "--mg-profile", "post-2024-12", "--mg-shape", "peak", "--mg-db", str(db), "--mg-admin-token", ADMIN,
               "--mg-user-rate", "4"]  # fmt: skip
        limit = args.locust_seconds + 120
        result = subprocess.run(cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=limit)
    summary = re.search(r"mockgateway load: ([\d,]+) requests, ([\d,]+) failures, p50 (\d+) ms, p99 (\d+) ms, "
                        r"([\d.]+) requests/s", result.stdout + result.stderr)  # fmt: skip
    if not summary:
        return {"error": 1.0}
    return {
        "requests": float(summary.group(1).replace(",", "")),
        "failures": float(summary.group(2).replace(",", "")),
        "p50": float(summary.group(3)),
        "p99": float(summary.group(4)),
        "rps": float(summary.group(5)),
    }


def bench_bulk(args: argparse.Namespace) -> dict[str, float]:
    """benchmarks/bench_bulk.py (its own synthetic people, every record a different person), --runs
    times: records/s processed, CPU (gateway + its worker processes), the whole file's seconds and
    the peak RSS of the process tree, each the median."""
    runs = []
    for _ in range(args.runs):
        cmd = [sys.executable, str(ROOT / "benchmarks" / "bench_bulk.py"), "--records", str(args.bulk_records),
               "--people", str(args.bulk_records)]  # fmt: skip
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        process = re.search(r"^process .*?([\d.]+)\s+([\d.]+)\s+([\d,]+)\s+[\d.]+\s*$", out, re.M)
        whole = re.search(r"^whole file end to end\s+([\d.]+)\s+([\d.]+)", out, re.M)
        rss = re.search(r"peak RSS ([\d,]+) MiB", out)
        if not (process and whole and rss):
            raise SystemExit(f"bench_bulk.py output not understood:\n{out}")
        runs.append({
            "records_per_s": float(process.group(3).replace(",", "")),
            "process_cpu_us": float(process.group(2)) / args.bulk_records * 1e6,
            "whole_file_s": float(whole.group(1)),
            "whole_cpu_s": float(whole.group(2)),
            "peak_rss_mb": float(rss.group(1).replace(",", "")),
        })  # fmt: skip
    return median(runs)


def compare(old_path: Path, new: dict[str, dict[str, float]]) -> None:
    """Print each figure of this run beside the same figure of an earlier run's JSON."""
    old = json.loads(old_path.read_text(encoding="utf-8"))
    print(f"compared with {old_path} ({old.get('machine', '?')}):")
    for name, figures in new.items():
        before = old.get("results", {}).get(name)
        if not before:
            continue
        keys = ("rps", "p99", "cpu_us", "records_per_s", "whole_file_s", "warm_us", "built_us")
        cells = [f"{k} {before[k]:,.1f} → {v:,.1f} ({v / before[k] - 1:+.0%})" for k, v in figures.items()
                 if before.get(k) and k in keys]  # fmt: skip
        if cells:
            print(f"  {name}: " + "; ".join(cells))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "population.sqlite3")
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=10, help="seconds of wrk before each measured case")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--people", type=int, default=10_000, help="distinct people in the request mix")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--folder-files", type=int, default=5_000)
    ap.add_argument("--locust-seconds", type=int, default=30)
    ap.add_argument("--bulk-records", type=int, default=100_000)
    ap.add_argument(
        "--skip", default="", help="comma-separated: start,engine,ceiling,http,tls,built,folder,locust,bulk"
    )
    ap.add_argument("--json", type=Path, default=None, help="figures go here (default reports/bench-scale-<time>.json)")
    ap.add_argument("--compare", type=Path, default=None, help="an earlier run's JSON to print this run beside")
    args = ap.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if not shutil.which("wrk"):
        print("wrk not found: run scripts/bench-setup.sh as root", file=sys.stderr)
        return 2
    args.work = tempfile.mkdtemp(prefix="mg-bench-")
    started_at = machine()
    load_before = load_average()
    print(f"machine: {started_at}; load average before: {load_before}")
    print(f"wrk -t1 -c{args.connections} -d{args.duration}s, median of {args.runs} runs, unpinned, journal on")
    generated = ensure_population(args.db, args.size, args.seed)
    if generated:
        g = generated
        print(f"population: {args.size:,} people generated in {g['seconds']:.1f} s "
              f"({args.size / g['seconds']:,.0f} people/s), peak RSS of the process tree "
              f"{g['peak_rss_mb']:.0f} MB, calibration: largest difference {g['worst_pp']:.3f} pp")  # fmt: skip
    as_of, bodies = request_bodies(args.db, args.people)
    print(f"requests: {len(bodies):,} different people, QualificationConfirmationDate {as_of}, Shift_JIS XML / JSON")
    results: list[tuple[str, dict[str, float]]] = []

    def show(name: str, m: dict[str, float], ceiling: dict[str, float] | None = None) -> None:
        ratio = f", {m['rps'] / ceiling['rps']:.1%} of the ceiling" if ceiling and "rps" in m else ""
        figures = ", ".join(
            f"{k} {v:,.2f}" if isinstance(v, float) and v < 100 else f"{k} {v:,.0f}" for k, v in m.items()
        )
        print(f"  {name}: {figures}{ratio}", flush=True)
        results.append((name, m))

    if "start" not in skip:
        show("gateway start with the population (to /health), 1 process", bench_start(args.db, args))
    if "engine" not in skip:
        show("engine, OQSsiquc01 in process (µs per request)", bench_engine(args.db, bodies, args))
    ceiling = None
    if "ceiling" not in skip:
        with gateway(args.db, 1, ["--no-folder"]) as (url, _s, _r, _root):
            body = bodies[0][0].encode("cp932")
            with urllib.request.urlopen(urllib.request.Request(url + "/oqs/OQSsiquc01", data=body, method="POST")) as r:
                sample = r.read()
        text = sample.decode("cp932").replace('encoding="Shift_JIS"', 'encoding="UTF-8"')
        ceiling = bench_ceiling(text.encode("utf-8"), bodies, args)
        show(f"ceiling: nginx, static {len(sample):,}-byte body, 2 worker processes", ceiling)
    if "http" not in skip:
        checked = expected_answers(args.db, bodies, args)
        print(f"answers: each XML answer under wrk is checked against the engine's ({checked:,} expected answers)")
        for workers in [int(w) for w in args.workers.split(",") if w]:
            for name, m in bench_http(args.db, bodies, workers, args).items():
                show(f"{name}, --workers {workers}", m, ceiling)
    if "folder" not in skip:
        show(f"folder transport, {args.folder_files:,} files dropped at once (ms from drop to result)",
             bench_folder(args.db, bodies, args))  # fmt: skip
    if "locust" not in skip:
        show(f"locust, one process, post-2024-12 national peak, {args.locust_seconds} s, --workers 2",
             bench_locust(args.db, args))  # fmt: skip
    if "bulk" not in skip:
        show(f"一括照会, {args.bulk_records:,} records, every one a different person (bench_bulk.py)", bench_bulk(args))
    load_after = load_average()
    print(f"load average after: {load_after}")
    shutil.rmtree(args.work, ignore_errors=True)
    report = {
        "machine": started_at,
        "load_average": {"before": load_before, "after": load_after},
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "wrk": f"-t1 -c{args.connections} -d{args.duration}s, warm-up {args.warmup} s, median of {args.runs}",
        "people": len(bodies),
        "results": dict(results),
    }
    path = args.json or ROOT / "reports" / f"bench-scale-{dt.datetime.now():%Y%m%d-%H%M}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"figures written to {path}")
    if args.compare is not None:
        compare(args.compare, dict(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
